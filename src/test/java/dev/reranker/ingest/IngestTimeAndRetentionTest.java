package dev.reranker.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.reranker.data.EventType;
import dev.reranker.data.Interaction;
import dev.reranker.data.InteractionJson;
import dev.reranker.data.Topics;
import dev.reranker.model.Arm;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.state.ActiveModel;
import dev.reranker.state.CachedState;
import dev.reranker.state.ModelRegistry;
import dev.reranker.state.SnapshotStore;
import dev.reranker.state.StateCache;
import dev.reranker.state.UserStates;
import dev.reranker.testing.Drivers;
import dev.reranker.testing.ManualTime;
import dev.reranker.testing.TestModels;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the ingestion does as time passes and histories outgrow their retention, on {@link
 * TopologyTestDriver} with time moved by the test: time-based snapshots (the sweep), the snapshot
 * forced before an append would drop an event no snapshot covers, and the missing-key rejection.
 */
class IngestTimeAndRetentionTest {

  static final long NOW = 1_767_225_600_000L;
  static final int HISTORY_LIMIT = 40;
  final ModelArtifacts.TrainedModel performer = TestModels.model(Arm.PERFORMER, 7);
  final ManualTime time = new ManualTime(NOW);

  @TempDir
  Path stateDir;
  TopologyTestDriver driver;
  TestInputTopic<String, byte[]> input;
  TestOutputTopic<String, byte[]> dlq;
  UserStates states;
  IngestMetrics metrics;

  /**
   * @param snapshotEvery N
   * @param microBatch events before a fold (large: only punctuations fold)
   */
  void start(long snapshotEvery, int microBatch) {
    states = new UserStates(new ModelRegistry(Map.of(Arm.PERFORMER, new ActiveModel(performer))),
        new StateCache(64L << 20, null, Ticker.systemTicker()), time,
        new UserStates.Settings(snapshotEvery, Duration.ofMinutes(1), 20, 8), null);
    metrics = new IngestMetrics(new SimpleMeterRegistry());
    IngestSettings settings = new IngestSettings(Topics.INTERACTIONS, Topics.DEAD_LETTERS,
        HISTORY_LIMIT, Duration.ofMinutes(5), 512, 1024, microBatch, Duration.ofHours(1),
        Set.of(Arm.PERFORMER));
    StreamsBuilder builder = new StreamsBuilder();
    IngestTopology.build(builder, settings, states, metrics, time);
    driver = Drivers.open(builder, "ingest-time-test", stateDir);
    input = Drivers.input(driver, Topics.INTERACTIONS);
    dlq = Drivers.output(driver, Topics.DEAD_LETTERS);
  }

  @AfterEach
  void stop() {
    if (driver != null) {
      driver.close();
    }
  }

  List<Interaction> send(String user, int n, int offset) {
    List<Interaction> sent = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int k = offset + i;
      Interaction e = new Interaction(user, "i" + (k * 7 % TestModels.ITEMS),
          NOW - 10_000_000L + 1000L * k, EventType.VIEW, user + "-" + k);
      input.pipeInput(user, InteractionJson.toJson(e).getBytes(StandardCharsets.UTF_8));
      sent.add(e);
    }
    return sent;
  }

  Optional<SnapshotStore.Snapshot> snapshot(String user) {
    KeyValueStore<Bytes, byte[]> store = driver.getKeyValueStore(Topics.SNAPSHOT_STORE);
    return KafkaSnapshots.writable(store).load(user, performer.version());
  }

  @Test
  void aStateWithUnsavedEventsIsSnapshottedOnceItsSnapshotIsOlderThanTheInterval() {
    start(20, 4); // N = 20 events: never reached here
    send("u", 6, 0);
    // the sweep runs (every T/2 of wall clock) but T has not passed on the engine's clock
    driver.advanceWallClockTime(Duration.ofSeconds(31));
    assertThat(snapshot("u")).isEmpty();

    time.advance(Duration.ofSeconds(61)); // now the state's last snapshot is older than T
    driver.advanceWallClockTime(Duration.ofSeconds(31));
    assertThat(snapshot("u")).hasValueSatisfying(s -> assertThat(s.historyPosition())
        .isEqualTo(6));

    // nothing unsaved: no new snapshot however much time passes
    time.advance(Duration.ofMinutes(5));
    long before = metrics.changelogBytes().get("snapshots");
    driver.advanceWallClockTime(Duration.ofSeconds(31));
    assertThat(metrics.changelogBytes().get("snapshots")).isEqualTo(before);
  }

  @Test
  void anAppendThatWouldDropAnUnsnapshottedEventSnapshotsFirstSoNoEventIsLost() {
    // N = H/2 and no fold or sweep while the events arrive (huge micro-batch, no wall-clock
    // advance): only the guard before the append can snapshot
    start(HISTORY_LIMIT / 2, 100_000);
    List<Interaction> sent = send("u", HISTORY_LIMIT, 0);
    assertThat(snapshot("u")).isEmpty();
    sent.addAll(send("u", 1, HISTORY_LIMIT)); // this append drops event 0
    assertThat(snapshot("u")).as("the snapshot forced before event 0 left the history")
        .hasValueSatisfying(s -> assertThat(s.historyPosition()).isEqualTo(HISTORY_LIMIT));
    sent.addAll(send("u", 25, HISTORY_LIMIT + 1)); // more drops, more forced snapshots

    // a cold restart's rebuild (empty cache) starts from the snapshot: it sees all 66 events
    states.cache().invalidateAll();
    KeyValueStore<Bytes, byte[]> history = driver.getKeyValueStore(Topics.HISTORY_STORE);
    CachedState rebuilt = states.session(HistoryStore.readOnly(history), KafkaSnapshots.readOnly(
        driver.getKeyValueStore(Topics.SNAPSHOT_STORE))).current("u", Arm.PERFORMER);
    assertThat(rebuilt.partial()).isFalse();
    assertThat(rebuilt.historyPosition()).isEqualTo(sent.size());
    float[] expected = TestModels.batchUserVector(performer, sent.stream()
        .map(Interaction::itemId).toList(), sent.stream().map(Interaction::timestamp).toList());
    assertThat(TestModels.maxDiff(rebuilt.state().userVector(), expected)).isLessThan(1e-4);
  }

  @Test
  void aRecordWithoutAKeyIsDeadLetteredAsMissingKey() {
    start(20, 4);
    Interaction e = new Interaction("u", "i1", NOW - 1000, EventType.VIEW, "k-1");
    input.pipeInput((String) null, InteractionJson.toJson(e).getBytes(StandardCharsets.UTF_8));
    var dead = dlq.readRecordsToList();
    assertThat(dead).hasSize(1);
    assertThat(new String(dead.get(0).headers().lastHeader(DeadLetterHeaders.REASON_CODE_HEADER)
        .value(), StandardCharsets.UTF_8)).isEqualTo("missing_key");
    assertThat(metrics.rejectedCount(Rejection.Code.MISSING_KEY)).isEqualTo(1);
    assertThat(metrics.appliedCount()).isZero();
  }
}
