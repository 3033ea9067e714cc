package dev.reranker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.mock.env.MockEnvironment;

/** Issue 18, 3: the cluster key is required in the prod profile, generated elsewhere. */
class ClusterKeyConfigurationTest {

  private static RerankerProperties bind(Map<String, String> properties) {
    return new Binder(new MapConfigurationPropertySource(properties))
        .bindOrCreate("reranker", RerankerProperties.class);
  }

  @Test
  void prodRefusesToStartWithoutAClusterKey() {
    MockEnvironment prod = new MockEnvironment();
    prod.setActiveProfiles("prod");
    assertThatThrownBy(() -> new ServingConfiguration().clusterKey(bind(Map.of()), prod))
        .hasMessageContaining("reranker.security.cluster-key")
        .hasMessageContaining("prod");
    assertThat(new ServingConfiguration().clusterKey(bind(Map.of(
        "reranker.security.cluster-key", "s3cret")), prod).matches("s3cret")).isTrue();
  }

  @Test
  void elsewhereOneIsGeneratedPerInstance() {
    var a = new ServingConfiguration().clusterKey(bind(Map.of()), new MockEnvironment());
    assertThat(a.matches(null)).isFalse();
    assertThat(a.matches("")).isFalse();
    assertThat(a.toString()).doesNotContain("-"); // never logged or printed
  }
}
