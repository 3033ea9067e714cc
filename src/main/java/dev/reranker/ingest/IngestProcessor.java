package dev.reranker.ingest;

import dev.reranker.data.Interaction;
import dev.reranker.model.Arm;
import dev.reranker.state.ActiveModel;
import dev.reranker.state.UserStates;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;

/**
 * The ingestion step for one Kafka Streams task, record by record in partition order:
 * <ol>
 *   <li>validate ({@link EventValidator}); a rejected record is forwarded, original bytes and a
 *       reason header, to the dead-letter topic;</li>
 *   <li>deduplicate by eventId against a window store of recent ids (a producer retry applies
 *       once);</li>
 *   <li>append to the user's history ({@link HistoryStore}), first snapshotting the performer state
 *       if the append would drop an event no snapshot covers;</li>
 *   <li>mark the user pending. Pending users are folded together — one batched pass per arm —
 *       every {@code microBatchEvents} events or {@code flushInterval} of wall time, and their
 *       snapshots written when due ({@link UserStates}).</li>
 * </ol>
 * Everything written (history, dedup ids, snapshots, DLQ records) commits in the task's Kafka
 * transaction (exactly_once_v2). The cached states live outside it; they carry their history
 * position, so states ahead of the history after an abort are dropped and rebuilt.
 */
final class IngestProcessor implements Processor<String, byte[], String, byte[]> {

  private final IngestSettings settings;
  private final EventValidator validator;
  private final UserStates states;
  private final IngestMetrics metrics;
  private final Clock clock;
  private final java.util.function.Consumer<Interaction> onApplied;

  private ProcessorContext<String, byte[]> context;
  private HistoryStore history;
  private KafkaSnapshots snapshots;
  private WindowStore<String, Long> dedup;
  private UserStates.Session session;
  private final Set<String> pending = new LinkedHashSet<>();
  private final Set<String> unsaved = new LinkedHashSet<>();
  private int pendingEvents;

  IngestProcessor(IngestSettings settings, UserStates states, IngestMetrics metrics, Clock clock,
      java.util.function.Consumer<Interaction> onApplied) {
    this.settings = settings;
    this.onApplied = onApplied;
    this.validator = new EventValidator(settings.maxRecordBytes(),
        settings.futureTolerance().toMillis());
    this.states = states;
    this.metrics = metrics;
    this.clock = clock;
  }

  @Override
  public void init(ProcessorContext<String, byte[]> context) {
    this.context = context;
    KeyValueStore<Bytes, byte[]> historyStore = context.getStateStore(IngestTopics.HISTORY_STORE);
    KeyValueStore<Bytes, byte[]> snapshotStore = context.getStateStore(
        IngestTopics.SNAPSHOT_STORE);
    this.history = HistoryStore.writable(historyStore, settings.historyLimit());
    this.snapshots = KafkaSnapshots.writable(snapshotStore);
    this.dedup = context.getStateStore(IngestTopics.DEDUP_STORE);
    this.session = states.session(history, snapshots);
    context.schedule(settings.flushInterval(), PunctuationType.WALL_CLOCK_TIME, t -> flush());
    long sweep = Math.max(1000, states.settings().snapshotInterval().toMillis() / 2);
    context.schedule(java.time.Duration.ofMillis(sweep), PunctuationType.WALL_CLOCK_TIME,
        t -> snapshotSweep());
  }

  @Override
  public void process(Record<String, byte[]> record) {
    long t0 = System.nanoTime();
    EventValidator.Result result = validator.validate(record.key(), record.value(), clock.millis());
    long t1 = System.nanoTime();
    metrics.stage(IngestMetrics.Stage.VALIDATE, t1 - t0);
    if (result instanceof EventValidator.Rejected rejected) {
      deadLetter(record, rejected.rejection());
      return;
    }
    Interaction event = ((EventValidator.Accepted) result).event();
    boolean duplicate = isDuplicate(event);
    long t2 = System.nanoTime();
    metrics.stage(IngestMetrics.Stage.DEDUP, t2 - t1);
    if (duplicate) {
      metrics.duplicate();
      return;
    }
    String user = event.userId();
    HistoryStore.Meta meta = protectUnsnapshottedEvents(user, history.meta(user));
    long before = history.bytesWritten();
    history.append(event, meta);
    metrics.historyBytes(history.bytesWritten() - before);
    metrics.stage(IngestMetrics.Stage.HISTORY, System.nanoTime() - t2);
    metrics.applied();
    onApplied.accept(event);
    for (Map.Entry<Arm, ActiveModel> m : states.models().entrySet()) {
      if (m.getValue().itemIndex(event.itemId()) < 0) {
        metrics.unknownItem(m.getKey());
      }
    }
    pending.add(user);
    unsaved.add(user);
    if (++pendingEvents >= settings.microBatchEvents()) {
      flush();
    }
  }

  private boolean isDuplicate(Interaction event) {
    long t = event.timestamp();
    long retention = settings.dedupRetention().toMillis();
    try (WindowStoreIterator<Long> seen = dedup.fetch(event.eventId(), Math.max(0, t - retention),
        t + retention)) {
      if (seen.hasNext()) {
        return true;
      }
    }
    dedup.put(event.eventId(), t, t);
    metrics.dedupBytes(event.eventId().length() + 16L);
    return false;
  }

  /**
   * Before an append drops the oldest retained event, makes sure a snapshot covers it; returns the
   * user's (possibly updated) meta.
   */
  private HistoryStore.Meta protectUnsnapshottedEvents(String user, HistoryStore.Meta m) {
    if (!states.models().containsKey(Arm.PERFORMER)) {
      return m;
    }
    boolean dropsOldest = m.next() + 1 - m.first() > settings.historyLimit();
    if (dropsOldest && m.snapshotPosition() <= m.first()) {
      session.catchUp(List.of(user), Arm.PERFORMER);
      record(session.snapshotDue(List.of(user), true));
      return history.meta(user);
    }
    return m;
  }

  /** Folds every pending user's states (one batched pass per eager arm) and snapshots what is due. */
  void flush() {
    if (pending.isEmpty()) {
      return;
    }
    long start = System.nanoTime();
    for (Arm arm : settings.eagerArms()) {
      if (states.models().containsKey(arm)) {
        session.catchUp(pending, arm);
      }
    }
    record(session.snapshotDue(pending, false));
    pending.clear();
    pendingEvents = 0;
    long nanos = System.nanoTime() - start;
    metrics.flushTimer().record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    metrics.stage(IngestMetrics.Stage.FOLD, nanos);
  }

  /** Time-based snapshots: users with unsaved events whose last snapshot is older than T. */
  private void snapshotSweep() {
    flush();
    if (states.models().containsKey(Arm.PERFORMER)) {
      session.catchUp(unsaved, Arm.PERFORMER);
    }
    Map<String, Long> written = session.snapshotDue(unsaved, false);
    record(written);
    unsaved.removeAll(written.keySet());
  }

  private void record(Map<String, Long> written) {
    long before = snapshots.bytesWritten();
    written.forEach(history::markSnapshot);
    unsaved.removeAll(written.keySet());
    metrics.snapshotBytes(snapshots.bytesWritten() - before);
  }

  private void deadLetter(Record<String, byte[]> record, Rejection rejection) {
    metrics.rejected(rejection.code());
    RecordHeaders headers = new RecordHeaders(record.headers().toArray());
    headers.add(IngestTopics.REASON_HEADER, rejection.reason().getBytes(StandardCharsets.UTF_8));
    headers.add(IngestTopics.REASON_CODE_HEADER,
        rejection.code().wireName().getBytes(StandardCharsets.UTF_8));
    context.recordMetadata().ifPresent(m -> {
      headers.add(IngestTopics.SOURCE_TOPIC_HEADER, m.topic().getBytes(StandardCharsets.UTF_8));
      headers.add(IngestTopics.SOURCE_PARTITION_HEADER,
          Integer.toString(m.partition()).getBytes(StandardCharsets.UTF_8));
      headers.add(IngestTopics.SOURCE_OFFSET_HEADER,
          Long.toString(m.offset()).getBytes(StandardCharsets.UTF_8));
    });
    context.forward(new Record<>(record.key(), record.value(), record.timestamp(), headers));
  }
}
