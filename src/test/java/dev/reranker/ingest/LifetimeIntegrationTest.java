package dev.reranker.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.reranker.data.Topics;
import dev.reranker.model.Arm;
import dev.reranker.model.BatchFolder;
import dev.reranker.model.EncoderBackend;
import dev.reranker.model.EncoderState;
import dev.reranker.model.IncrementalEncoder;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.model.OrderSignal;
import dev.reranker.state.CachedState;
import dev.reranker.state.HistoryEvent;
import dev.reranker.state.HistoryReader;
import dev.reranker.state.SnapshotStore;
import dev.reranker.state.StateKey;
import dev.reranker.state.UserStates;
import dev.reranker.testing.EngineHarness;
import dev.reranker.testing.TestModels;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Issue 23, lifetime scale: one user's 1,000,000 events through the service's ingest path (a real
 * broker, Kafka Streams, RocksDB, the history bounded to 10,000 events, a snapshot every 1,000).
 * The performer state that results is
 * <ul>
 *   <li>exact: equal, within 1e-4, to the batch encoding of the retained history continued from
 *       the user's latest snapshot, and that snapshot equal to the batch encoding of every event
 *       before it (the lineage: what no store retains any more, re-encoded here from the same
 *       seed);</li>
 *   <li>constant in size: the bytes of the state after 100 events;</li>
 *   <li>finite.</li>
 * </ul>
 * The fold's cost at event 1,000,000 against event 100 is a speed claim, so it is measured by
 * {@code bench ingest} (fold_us_at_position_1000001), not timed here.
 */
class LifetimeIntegrationTest extends dev.reranker.testing.BrokerTest {

  static final int EVENTS = 1_000_000;
  static final String USER = "lifer";
  static final long START = 1_700_000_000_000L; // 2023-11: 1,000,000 events later, ~2026-01
  /** Events per batch-encoding window of the reference (the folder's longest pass). */
  static final int WINDOW = BatchFolder.MAX_ROWS;

  /** The user's i-th event, the same on every call: item index and timestamp. */
  record Events(int[] items, long[] timestamps) {
    static Events generate(int n) {
      SplittableRandom r = new SplittableRandom(23);
      int[] items = new int[n];
      long[] times = new long[n];
      long t = START;
      for (int i = 0; i < n; i++) {
        items[i] = r.nextInt(TestModels.ITEMS);
        // seconds apart, now and then an hour: ~66 s on average, ~2.1 years in all
        t += 1 + r.nextInt(r.nextInt(64) == 0 ? 3_600_000 : 20_000);
        times[i] = t;
      }
      return new Events(items, times);
    }
  }

  @Test
  void aMillionEventsOfOneUserEndInAnExactConstantSizeState() throws Exception {
    ConfigurableApplicationContext app = harness.start("lifetime", "lifetime",
        "reranker.state.snapshot-every-events=1000", "reranker.ingest.history-limit=10000");
    Events events = Events.generate(EVENTS);
    ModelArtifacts.TrainedModel model = harness.performer;
    harness.produceRaw("lifetime", p -> {
      for (int i = 0; i < EVENTS; i++) {
        String json = "{\"eventId\":\"e" + i + "\",\"userId\":\"" + USER + "\",\"itemId\":\"i"
            + events.items()[i] + "\",\"timestamp\":" + events.timestamps()[i]
            + ",\"eventType\":\"view\"}";
        p.send(new ProducerRecord<>("lifetime-interactions", USER,
            json.getBytes(StandardCharsets.UTF_8)));
      }
    });
    IngestMetrics metrics = EngineHarness.metrics(app);
    await().atMost(Duration.ofMinutes(20)).pollInterval(Duration.ofSeconds(1))
        .until(() -> metrics.appliedCount() + metrics.rejectedCount()
            + metrics.duplicateCount() >= EVENTS);
    assertThat(metrics.rejectedCount()).isZero();
    assertThat(metrics.duplicateCount()).isZero();
    assertThat(metrics.appliedCount()).isEqualTo(EVENTS);

    UserStates states = EngineHarness.states(app);
    StateKey key = new StateKey(USER, Arm.PERFORMER);
    await().atMost(Duration.ofMinutes(2)).until(() -> {
      CachedState c = states.cache().getIfPresent(key);
      return c != null && c.historyPosition() == EVENTS;
    });
    EncoderState live = states.cache().getIfPresent(key).state().copy();
    assertThat(live.position()).isEqualTo(EVENTS);

    // what the stores hold now: the last 10,000 events and the latest snapshot
    KafkaStreams streams = EngineHarness.streams(app);
    HistoryStore history = HistoryStore.readOnly(streams.store(StoreQueryParameters.fromNameAndType(
        Topics.HISTORY_STORE, QueryableStoreTypes.keyValueStore())));
    KafkaSnapshots snapshots = KafkaSnapshots.readOnly(streams.store(StoreQueryParameters
        .fromNameAndType(Topics.SNAPSHOT_STORE, QueryableStoreTypes.keyValueStore())));
    HistoryReader.Extent extent = history.extent(USER);
    assertThat(extent.next()).isEqualTo(EVENTS);
    assertThat(extent.retained()).isLessThanOrEqualTo(10_000);
    SnapshotStore.Snapshot snapshot = snapshots.load(USER, model.version()).orElseThrow();
    assertThat(snapshot.historyPosition()).as("the latest snapshot covers all but the retained")
        .isBetween(extent.first(), (long) EVENTS);
    EncoderState snapshotState = EncoderState.fromBytes(snapshot.state());
    List<HistoryEvent> retained = history.events(USER, snapshot.historyPosition(), EVENTS);
    assertThat(retained).hasSize((int) (EVENTS - snapshot.historyPosition()));

    // the lineage: every event before the snapshot, batch-encoded here from the same seed
    BatchFolder folder = new BatchFolder(model.sequenceModel(), model.plainWeights());
    IncrementalEncoder encoder = new IncrementalEncoder(model.plainWeights());
    EncoderState reference = encoder.newState();
    encodeInWindows(folder, reference, events, 0, (int) snapshot.historyPosition());
    assertClose("snapshot at " + snapshot.historyPosition() + " vs its lineage re-encoded",
        snapshotState, reference);

    // the retained history after the snapshot, batch-encoded onto it
    int[] items = new int[retained.size()];
    long[] times = new long[retained.size()];
    for (int i = 0; i < items.length; i++) {
      HistoryEvent e = retained.get(i);
      assertThat(e.itemId()).isEqualTo("i" + events.items()[(int) e.position()]);
      items[i] = model.items().indexOf(e.itemId());
      times[i] = e.timestamp();
    }
    EncoderState resumed = snapshotState.copy();
    if (items.length > 0) {
      folder.run(List.of(new EncoderBackend.Work(resumed, items, times,
          snapshot.historyPosition(), snapshotState.lastTimestamp())));
    }
    assertClose("live state vs snapshot + retained history batch-encoded", live, resumed);
    encodeInWindows(folder, reference, events, (int) snapshot.historyPosition(), EVENTS);
    assertClose("live state vs all 1,000,000 events batch-encoded", live, reference);

    // constant size, finite
    EncoderState young = encoder.newState();
    for (int i = 0; i < 100; i++) {
      encoder.fold(young, events.items()[i], events.timestamps()[i]);
    }
    assertThat(live.byteSize()).as("state bytes at 1,000,000 vs at 100")
        .isEqualTo(young.byteSize());
    for (float x : live.userVector()) {
      assertThat(Float.isFinite(x)).isTrue();
    }
    harness.stop(app);
  }

  /** Folds events [from, to) onto {@code state} in batched windows of {@link #WINDOW}. */
  static void encodeInWindows(BatchFolder folder, EncoderState state, Events events, int from,
      int to) {
    for (int start = from; start < to; start += WINDOW) {
      int end = Math.min(to, start + WINDOW);
      int[] items = java.util.Arrays.copyOfRange(events.items(), start, end);
      long[] times = java.util.Arrays.copyOfRange(events.timestamps(), start, end);
      long previous = start == 0 ? OrderSignal.NO_PREVIOUS : events.timestamps()[start - 1];
      folder.run(List.of(new EncoderBackend.Work(state, items, times, start, previous)));
    }
  }

  /** User vectors within 1e-4, positions equal. */
  static void assertClose(String what, EncoderState actual, EncoderState expected) {
    assertThat(actual.position()).as(what + ": position").isEqualTo(expected.position());
    float[] a = actual.userVector();
    float[] b = expected.userVector();
    double diff = 0;
    for (int j = 0; j < a.length; j++) {
      diff = Math.max(diff, Math.abs(a[j] - b[j]));
    }
    System.out.printf("%s: max |Δ user vector| %.3g%n", what, diff);
    assertThat(diff).as(what + ": max |Δ user vector|").isLessThan(1e-4);
  }
}
