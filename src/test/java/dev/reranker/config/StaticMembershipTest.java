package dev.reranker.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Properties;
import org.junit.jupiter.api.Test;

class StaticMembershipTest {

  @Test
  void anInstanceWithAnApplicationServerBecomesAStaticMember() {
    Properties p = new Properties();
    p.setProperty("application.id", "reranker-ingest");
    p.setProperty("application.server", "reranker-0.reranker-headless:8080");
    EngineConfiguration.staticMembership(p);
    assertThat(p.getProperty("main.consumer.group.instance.id"))
        .isEqualTo("reranker-ingest-reranker-0.reranker-headless-8080");
  }

  @Test
  void aConfiguredIdOrNoApplicationServerIsLeftAlone() {
    Properties single = new Properties();
    single.setProperty("application.id", "x");
    EngineConfiguration.staticMembership(single);
    assertThat(single).doesNotContainKey("main.consumer.group.instance.id");
    Properties configured = new Properties();
    configured.setProperty("application.server", "h:1");
    configured.setProperty("group.instance.id", "mine");
    EngineConfiguration.staticMembership(configured);
    assertThat(configured).doesNotContainKey("main.consumer.group.instance.id");
  }
}
