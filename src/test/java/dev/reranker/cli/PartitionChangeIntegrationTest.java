package dev.reranker.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.reranker.data.EventType;
import dev.reranker.data.Interaction;
import dev.reranker.model.Arm;
import dev.reranker.state.StateReader;
import dev.reranker.state.StateView;
import dev.reranker.testing.EngineHarness;
import dev.reranker.testing.TestModels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Issue 18, 1: an operator restarts a deployment with another partition count. Before, Spring's
 * {@code KafkaAdmin} grew the user-keyed topics to the new count, Kafka Streams found its
 * changelogs at the old one and shut the client down, every user read "no history", and setting the
 * count back did not help (the topics could not shrink). Now the start is refused and nothing is
 * changed; the old count starts as before; the documented procedure (the {@code repartition}
 * command, then the engine on the copies under a new application id) reaches the new count with
 * every user's history, and the next event folds on top.
 */
class PartitionChangeIntegrationTest {

  static final int USERS = 100;
  static final int EVENTS = 50;

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
  void aChangedPartitionCountIsRefusedAndTheDocumentedProcedureKeepsEveryHistory()
      throws Exception {
    harness = new EngineHarness(root);
    ConfigurableApplicationContext four = harness.start("pc", "a", "reranker.ingest.partitions=4");
    Map<String, List<Interaction>> histories = new LinkedHashMap<>();
    List<Interaction> events = new ArrayList<>();
    long t0 = System.currentTimeMillis() - 86_400_000L;
    for (int e = 0; e < EVENTS; e++) {
      for (int u = 0; u < USERS; u++) {
        Interaction i = new Interaction("pc-user-" + u, "i" + ((u * 7 + e * 3) % TestModels.ITEMS),
            t0 + e * 60_000L + u, EventType.VIEW, "pc-" + u + "-" + e);
        events.add(i);
        histories.computeIfAbsent(i.userId(), x -> new ArrayList<>()).add(i);
      }
    }
    harness.produce("pc", events);
    await().atMost(Duration.ofSeconds(120)).until(() ->
        EngineHarness.metrics(four).appliedCount() == events.size());
    harness.stop(four);
    Map<String, Integer> before = partitionCounts("pc-");
    assertThat(before).containsEntry("pc-interactions", 4).containsEntry("pc-exposures", 4)
        .containsEntry("pc-dlq", 4).containsEntry("pc-outcomes", 4)
        .containsEntry("pc-experiments", 1).containsEntry("pc-user-history-changelog", 4);

    // restarted with 8: refused, with the topics, the counts and what to do; nothing changed
    assertThatThrownBy(() -> harness.start("pc", "a", "reranker.ingest.partitions=8"))
        .rootCause().hasMessageStartingWith("refusing to start: the topics' partition counts")
        .hasMessageContaining("pc-interactions has 4 partitions, the configuration says 8")
        .hasMessageContaining("pc-exposures has 4 partitions")
        .hasMessageContaining("start with reranker.ingest.partitions=4")
        .hasMessageContaining("docs/operations.md");
    assertThat(partitionCounts("pc-")).isEqualTo(before);

    // back to 4: every user served at position 50
    ConfigurableApplicationContext again = harness.start("pc", "a",
        "reranker.ingest.partitions=4");
    assertEveryUserAt(again, histories.keySet(), EVENTS);
    harness.stop(again);

    // the procedure: copy the user-keyed inputs into 8 partitions, start on the copies under a
    // new application id (the experiments topic is kept: one partition, not keyed by user)
    int code = RerankerMain.commandLine().execute("repartition", "--bootstrap-servers",
        harness.broker.bootstrapServers(), "--partitions", "8", "--interactions",
        "pc-interactions", "--exposures", "pc-exposures", "--application-id", "pc");
    assertThat(code).isZero();
    assertThat(partitionCounts("pc-")).containsEntry("pc-interactions.p8", 8)
        .containsEntry("pc-exposures.p8", 8).containsEntry("pc-interactions", 4);
    ConfigurableApplicationContext eight = harness.start("pc8", "b",
        "reranker.ingest.partitions=8", "reranker.ingest.topic=pc-interactions.p8",
        "reranker.experiments.exposures-topic=pc-exposures.p8",
        "reranker.experiments.topic=pc-experiments");
    assertEveryUserAt(eight, histories.keySet(), EVENTS);
    assertThat(partitionCounts("pc8-")).containsEntry("pc8-user-history-changelog", 8)
        .containsEntry("pc8-dlq", 8).containsEntry("pc8-outcomes", 8);

    // the next event folds on top: 51 events, equal to the batch encoding of all 51
    List<Interaction> next = new ArrayList<>();
    for (int u = 0; u < USERS; u++) {
      Interaction i = new Interaction("pc-user-" + u, "i" + (u % TestModels.ITEMS),
          t0 + EVENTS * 60_000L + u, EventType.VIEW, "pc-" + u + "-next");
      next.add(i);
      histories.get(i.userId()).add(i);
    }
    harness.produceRaw("pc", p -> next.forEach(i -> p.send(
        new org.apache.kafka.clients.producer.ProducerRecord<>("pc-interactions.p8", i.userId(),
            dev.reranker.data.InteractionJson.toJson(i).getBytes(
                java.nio.charset.StandardCharsets.UTF_8)))));
    harness.assertStatesEqualBatchEncoding(eight, histories);
    assertEveryUserAt(eight, histories.keySet(), EVENTS + 1);
  }

  private void assertEveryUserAt(ConfigurableApplicationContext app, Iterable<String> users,
      long position) {
    StateReader reader = app.getBean(StateReader.class);
    await().atMost(Duration.ofSeconds(120)).ignoreExceptions().untilAsserted(() -> {
      for (String user : users) {
        Optional<StateView> v = reader.read(user, Arm.PERFORMER);
        assertThat(v).as(user).isPresent();
        assertThat(v.get().historyPosition()).as(user).isEqualTo(position);
      }
    });
  }

  private Map<String, Integer> partitionCounts(String prefix) throws Exception {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
        harness.broker.bootstrapServers()))) {
      List<String> names = admin.listTopics().names().get().stream()
          .filter(n -> n.startsWith(prefix)).toList();
      Map<String, Integer> out = new TreeMap<>();
      admin.describeTopics(names).allTopicNames().get()
          .forEach((n, d) -> out.put(n, d.partitions().size()));
      return out;
    }
  }
}
