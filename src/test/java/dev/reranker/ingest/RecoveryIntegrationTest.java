package dev.reranker.ingest;

import static dev.reranker.ingest.IngestIntegrationTest.byUser;
import static dev.reranker.ingest.IngestIntegrationTest.events;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.reranker.data.EventType;
import dev.reranker.data.Interaction;
import dev.reranker.data.Topics;
import dev.reranker.model.Arm;
import dev.reranker.model.Batch;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.model.OrderSignal;
import dev.reranker.model.SequenceModel;
import dev.reranker.state.CachedState;
import dev.reranker.state.StateKey;
import dev.reranker.state.UserStates;
import dev.reranker.testing.EngineHarness;
import dev.reranker.testing.TestModels;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Issue 4: crash safety (2), two instances splitting and handing over partitions (4), and a user
 * whose 100,000-event history outgrows the 10,000-event retention (5).
 */
class RecoveryIntegrationTest extends dev.reranker.testing.BrokerTest {

  @Test
  void abruptStopWithLostLocalStateLosesNothingAndAppliesNothingTwice() throws Exception {
    List<Interaction> events = events("c", 8_000, 80, 5);
    ConfigurableApplicationContext first = harness.start("crash", "crash-1");
    harness.produce("crash", events.subList(0, 5_000));
    await().atMost(Duration.ofSeconds(120)).until(() ->
        EngineHarness.metrics(first).appliedCount() >= 2_000);
    // mid-stream: stop at once, without waiting for the stream thread to finish its work …
    EngineHarness.streams(first).close(Duration.ZERO);
    harness.stop(first);
    // … and lose the local disk: stores must come back from their changelogs
    harness.wipeState("crash-1");
    harness.produce("crash", events.subList(5_000, 8_000));
    ConfigurableApplicationContext second = harness.start("crash", "crash-1");
    harness.assertStatesEqualBatchEncoding(second, byUser(events));
    harness.stop(second);
  }

  @Test
  void twoInstancesSplitPartitionsAndTheSurvivorRestoresTheOthers() throws Exception {
    List<Interaction> events = events("p", 4_000, 100, 6);
    ConfigurableApplicationContext a = harness.start("pair", "pair-a");
    ConfigurableApplicationContext b = harness.start("pair", "pair-b");
    await().atMost(Duration.ofSeconds(60)).until(() ->
        EngineHarness.streams(a).metadataForLocalThreads().stream()
            .mapToInt(t -> t.activeTasks().size()).sum() > 0
        && EngineHarness.streams(b).metadataForLocalThreads().stream()
            .mapToInt(t -> t.activeTasks().size()).sum() > 0);
    harness.produce("pair", events);
    Map<String, List<Interaction>> expected = byUser(events);
    await().atMost(Duration.ofSeconds(120)).until(() -> EngineHarness.metrics(a).appliedCount()
        + EngineHarness.metrics(b).appliedCount() == 4_000);
    // each user's state lives on exactly one instance
    await().atMost(Duration.ofSeconds(60)).until(() -> expected.keySet().stream().allMatch(u ->
        (cached(a, u) != null) != (cached(b, u) != null)));
    Set<String> onA = new HashSet<>();
    for (String u : expected.keySet()) {
      if (cached(a, u) != null) {
        onA.add(u);
      }
    }
    assertThat(onA).isNotEmpty().hasSizeLessThan(expected.size());

    // b goes away: a takes its partitions, restores their stores, and keeps folding
    harness.stop(b);
    List<Interaction> more = events("p", 1_000, 100, 7).stream()
        .map(e -> new Interaction(e.userId(), e.itemId(), e.timestamp() + 20_000_000L,
            e.eventType(), e.eventId() + "-more")).toList();
    harness.produce("pair", more);
    List<Interaction> all = new ArrayList<>(events);
    all.addAll(more);
    harness.assertStatesEqualBatchEncoding(a, byUser(all));
    assertThat(EngineHarness.streams(a).state()).isEqualTo(KafkaStreams.State.RUNNING);
    harness.stop(a);
  }

  @Test
  void aHundredThousandEventHistoryOutlivesItsRetention() throws Exception {
    String user = "lifelong";
    SplittableRandom r = new SplittableRandom(9);
    long t = System.currentTimeMillis() - 20 * 3_600_000L;
    List<Interaction> events = new ArrayList<>();
    for (int i = 0; i < 100_000; i++) {
      t += r.nextInt(500);
      events.add(new Interaction(user, "i" + r.nextInt(TestModels.ITEMS), t, EventType.VIEW,
          "life-" + i));
    }
    // the expected state: a batched encode of all 100,000 events, in double precision
    float[] expected = batchEncode(events);
    String[] settings = {"reranker.ingest.history-limit=10000",
        "reranker.state.snapshot-every-events=1000"};
    ConfigurableApplicationContext app = harness.start("life", "life", settings);
    harness.produce("life", events);
    assertLifelongState(app, user, expected, 100_000);
    // constant memory per cached user: the same bytes as a user with 100 events
    harness.produce("life", events("short", 100, 1, 11));
    await().atMost(Duration.ofSeconds(60)).until(() -> cached(app, "short0") != null
        && cached(app, "short0").historyPosition() == 100);
    assertThat(cached(app, user).byteSize()).isEqualTo(cached(app, "short0").byteSize());
    harness.stop(app);

    // restart on a wiped disk: retention kept only 10,000 events; snapshot + retained = all
    harness.wipeState("life");
    ConfigurableApplicationContext again = harness.start("life", "life", settings);
    UserStates states = EngineHarness.states(again);
    var streams = EngineHarness.streams(again);
    HistoryStore history = HistoryStore.readOnly(streams.store(
        org.apache.kafka.streams.StoreQueryParameters.fromNameAndType(Topics.HISTORY_STORE,
            org.apache.kafka.streams.state.QueryableStoreTypes.keyValueStore())));
    KafkaSnapshots snapshots = KafkaSnapshots.readOnly(streams.store(
        org.apache.kafka.streams.StoreQueryParameters.fromNameAndType(Topics.SNAPSHOT_STORE,
            org.apache.kafka.streams.state.QueryableStoreTypes.keyValueStore())));
    assertThat(history.extent(user).retained()).isEqualTo(10_000);
    CachedState restored = states.session(history, snapshots).current(user, Arm.PERFORMER);
    assertThat(restored.partial()).isFalse();
    assertThat(restored.state().position()).isEqualTo(100_000);
    assertThat(TestModels.maxDiff(restored.state().userVector(), expected)).isLessThan(1e-4);

    // event 100,001 folds like any other: O(1), same state size
    Interaction next = new Interaction(user, "i5", t + 1000, EventType.VIEW, "life-100000");
    harness.produce("life", List.of(next));
    List<Interaction> all = new ArrayList<>(events);
    all.add(next);
    assertLifelongState(again, user, batchEncode(all), 100_001);
    harness.stop(again);
  }

  /** The user vector of a batched double-precision encode of the whole history. */
  private static float[] batchEncode(List<Interaction> events) {
    ModelArtifacts.TrainedModel m = harness.performer;
    SequenceModel doubles = new SequenceModel(m.config(), m.weights().castTo(
        org.nd4j.linalg.api.buffer.DataType.DOUBLE));
    int[] items = events.stream().mapToInt(e -> m.items().indexOf(e.itemId())).toArray();
    long[] times = events.stream().mapToLong(Interaction::timestamp).toArray();
    return doubles.forward(Batch.of(List.of(new Batch.Window(items, times, 0,
        OrderSignal.NO_PREVIOUS))), null).userVectors().castTo(
            org.nd4j.linalg.api.buffer.DataType.FLOAT).dup('c').data().asFloat();
  }

  private static void assertLifelongState(ConfigurableApplicationContext app, String user,
      float[] expected, long position) {
    await().atMost(Duration.ofSeconds(180)).until(() -> cached(app, user) != null
        && cached(app, user).historyPosition() == position);
    CachedState c = cached(app, user);
    assertThat(c.state().position()).isEqualTo(position);
    assertThat(TestModels.maxDiff(c.state().userVector(), expected)).isLessThan(1e-4);
  }

  private static CachedState cached(ConfigurableApplicationContext app, String user) {
    return EngineHarness.states(app).cache().getIfPresent(new StateKey(user, Arm.PERFORMER));
  }
}
