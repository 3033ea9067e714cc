package dev.reranker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.reranker.testing.EngineHarness;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An interactions topic that already exists with more partitions than the configured count: the
 * exposures topic would be created with the configured count, the outcome join would see a user's
 * exposures and interactions on different tasks and no outcome ever. The service refuses to start
 * ({@link KafkaTopics}), naming the topic, both counts and the fix, and leaves no client of its
 * own running.
 */
class CopartitioningIntegrationTest {

  @TempDir
  Path root;
  private EngineHarness harness;

  @AfterEach
  void tearDown() {
    if (harness != null) {
      harness.close();
    }
  }

  @Test
  void aServiceWhoseExposuresAreNotCopartitionedWithItsInteractionsDoesNotStart()
      throws Exception {
    harness = new EngineHarness(root);
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
        harness.broker.bootstrapServers()))) {
      // more than configured: the exposures topic would be created with the configured count
      admin.createTopics(List.of(new NewTopic("copart-interactions", 6, (short) 1))).all().get();
    }
    assertThatThrownBy(() -> harness.start("copart", "a", "reranker.ingest.partitions=4"))
        .rootCause()
        .hasMessageContaining("copart-interactions has 6 partitions, the configuration says 4")
        .hasMessageContaining("start with reranker.ingest.partitions=6")
        .hasMessageContaining("co-partitioned");
    // a start refused changes nothing: the topic as it was, the exposures topic not created
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
        harness.broker.bootstrapServers()))) {
      assertThat(admin.describeTopics(List.of("copart-interactions")).allTopicNames().get()
          .get("copart-interactions").partitions()).hasSize(6);
      assertThat(admin.listTopics().names().get()).doesNotContain("copart-exposures");
    }
    // what the failed context had created is closed with it: the broker check's admin client
    // once outlived it, reconnecting to the broker for the rest of the JVM's life
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
            .filter(n -> n.contains("reranker-broker-check") || n.equals("broker-check"))
            .toList()).isEmpty());
  }
}
