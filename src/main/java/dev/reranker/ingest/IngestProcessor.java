package dev.reranker.ingest;

import dev.reranker.data.Interaction;
import dev.reranker.data.Topics;
import dev.reranker.model.Arm;
import dev.reranker.state.ActiveModel;
import dev.reranker.state.UserStates;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
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

/**
 * The ingestion step for one Kafka Streams task, record by record in partition order:
 * <ol>
 *   <li>validate ({@link EventValidator}); a rejected record is forwarded, original bytes and a
 *       reason header, to the dead-letter topic;</li>
 *   <li>deduplicate by (userId, eventId) against the user's retained history: event ids are unique
 *       per user, and a repeat is dropped while the first is retained, whatever its timestamp (a
 *       producer retry, a replayed backfill);</li>
 *   <li>append to the user's history ({@link HistoryStore}), first snapshotting the performer state
 *       if the append would drop an event no snapshot covers;</li>
 *   <li>mark the user pending. Pending users are folded together — one batched pass per arm —
 *       every {@code microBatchEvents} events or {@code flushInterval} of wall time, and their
 *       snapshots written when due ({@link UserStates}).</li>
 * </ol>
 * A dead-letter record is bounded ({@link #deadLetter}): it can never be too large to produce, and
 * a failure to produce one is counted and skipped ({@link DeadLetterProductionHandler}), so no
 * input stops ingestion.
 * Everything written (history, event ids, snapshots, DLQ records) commits in the task's Kafka
 * transaction (exactly_once_v2). The cached states live outside it; they carry their history
 * position, so states ahead of the history after an abort are dropped and rebuilt.
 */
final class IngestProcessor implements Processor<String, byte[], String, IngestProcessor.Output> {

  /**
   * What the processor forwards for each record: a rejected record's dead letter (to the
   * dead-letter topic), or what the rest of the topology may know of it: the event as applied,
   * or why it was ignored (the outcome join counts those and resolves on applied events only).
   */
  sealed interface Output {}

  /** A rejected record: its bounded dead-letter value (the reason is in the headers). */
  record DeadLetter(byte[] value, Rejection.Code code) implements Output {}

  /** An event that was validated, was no repeat, and was appended to the user's history. */
  record Applied(Interaction event) implements Output {}

  /** A record that was not applied for another reason than a rejection (a repeated event id). */
  record Repeat() implements Output {}


  private final IngestSettings settings;
  private final EventValidator validator;
  private final UserStates states;
  private final IngestMetrics metrics;
  private final Clock clock;
  private final java.util.function.Consumer<Interaction> onApplied;

  private ProcessorContext<String, Output> context;
  private HistoryStore history;
  private KafkaSnapshots snapshots;
  private UserStates.Session session;
  private final Set<String> pending = new LinkedHashSet<>();
  private final Set<String> unsaved = new LinkedHashSet<>();
  private int pendingEvents;
  /** The Streams producer's max.request.size: no dead-letter record may come near it. */
  private int producerMaxRequestBytes = DEFAULT_MAX_REQUEST_BYTES;

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
  public void init(ProcessorContext<String, Output> context) {
    this.context = context;
    this.producerMaxRequestBytes = maxRequestBytes(context.appConfigs());
    KeyValueStore<Bytes, byte[]> historyStore = context.getStateStore(Topics.HISTORY_STORE);
    KeyValueStore<Bytes, byte[]> snapshotStore = context.getStateStore(
        Topics.SNAPSHOT_STORE);
    this.history = HistoryStore.writable(historyStore, settings.historyLimit());
    this.snapshots = KafkaSnapshots.writable(snapshotStore);
    this.session = states.session(history, snapshots);
    context.schedule(settings.flushInterval(), PunctuationType.WALL_CLOCK_TIME, t -> flush());
    // often, in budgeted slices (see snapshotSweep), rather than all at once every T/2
    long sweep = Math.max(1000, Math.min(5_000,
        states.settings().snapshotInterval().toMillis() / 2));
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
    String user = event.userId();
    boolean duplicate = history.contains(user, event.eventId());
    long t2 = System.nanoTime();
    metrics.stage(IngestMetrics.Stage.DEDUP, t2 - t1);
    if (duplicate) {
      metrics.duplicate();
      context.forward(new Record<String, Output>(record.key(), new Repeat(),
          record.timestamp()));
      return;
    }
    HistoryStore.Meta meta = protectUnsnapshottedEvents(user, history.meta(user));
    long before = history.bytesWritten();
    long idsBefore = history.idBytesWritten();
    history.append(event, meta);
    metrics.historyBytes(history.bytesWritten() - before);
    metrics.dedupBytes(history.idBytesWritten() - idsBefore);
    metrics.stage(IngestMetrics.Stage.HISTORY, System.nanoTime() - t2);
    metrics.applied();
    onApplied.accept(event);
    EventAppliedEvent jfr = new EventAppliedEvent();
    if (jfr.shouldCommit()) {
      jfr.userId = user;
      jfr.eventId = event.eventId();
      context.recordMetadata().ifPresent(m -> {
        jfr.partition = m.partition();
        jfr.offset = m.offset();
      });
      jfr.recordTimestamp = record.timestamp();
      jfr.commit();
    }
    // to the outcome join (in partition order, through its input topic): it sees exactly the
    // events the engine accepted, with the same validation and deduplication
    context.forward(new Record<String, Output>(record.key(), new Applied(event),
        record.timestamp()));
    for (Map.Entry<Arm, ActiveModel> m : states.models().all().entrySet()) {
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

  /**
   * Before an append drops the oldest retained event, makes sure a snapshot covers it; returns the
   * user's (possibly updated) meta.
   */
  private HistoryStore.Meta protectUnsnapshottedEvents(String user, HistoryStore.Meta m) {
    if (!states.models().has(Arm.PERFORMER)) {
      return m;
    }
    boolean dropsOldest = m.next() + 1 - m.first() > settings.historyLimit();
    if (dropsOldest && m.snapshotPosition() <= m.first()) {
      session.catchUp(List.of(user), Arm.PERFORMER);
      long before = snapshots.bytesWritten();
      record(session.snapshotDue(List.of(user), true), before);
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
      if (states.models().has(arm)) {
        session.catchUp(pending, arm);
      }
    }
    long before = snapshots.bytesWritten();
    record(session.snapshotDue(pending, false), before);
    pending.clear();
    pendingEvents = 0;
    long nanos = System.nanoTime() - start;
    metrics.flushTimer().record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    metrics.stage(IngestMetrics.Stage.FOLD, nanos);
  }

  /**
   * Time-based snapshots: users with unsaved events whose last snapshot is older than T, in
   * slices of {@value #SWEEP_SLICE} users, for at most {@link #SWEEP_BUDGET_NANOS} per
   * punctuation; users left over (and those not due yet) wait at the end of the queue for the next
   * sweep. Unbounded, one sweep caught up and snapshotted every unsaved user of the task at once —
   * users evicted from the state cache were rebuilt for it — inside one exactly-once transaction:
   * the 10-minute soak (20,000 users over a 64 MiB cache) saw it run past Kafka Streams'
   * transaction timeout (10 s), the broker abort the transaction and the task get fenced, closed
   * dirty and restored from its changelogs.
   */
  private void snapshotSweep() {
    flush();
    long deadline = System.nanoTime() + SWEEP_BUDGET_NANOS;
    int rounds = (unsaved.size() + SWEEP_SLICE - 1) / SWEEP_SLICE;
    for (int r = 0; r < rounds && System.nanoTime() < deadline && !unsaved.isEmpty(); r++) {
      List<String> slice = new ArrayList<>(SWEEP_SLICE);
      var it = unsaved.iterator();
      while (it.hasNext() && slice.size() < SWEEP_SLICE) {
        slice.add(it.next());
        it.remove();
      }
      unsaved.addAll(slice); // to the back: what this sweep writes is removed again below
      if (states.models().has(Arm.PERFORMER)) {
        session.catchUp(slice, Arm.PERFORMER);
      }
      long before = snapshots.bytesWritten();
      record(session.snapshotDue(slice, false), before);
    }
  }

  /** Users a time-based sweep takes at a time. */
  static final int SWEEP_SLICE = 256;
  /** The work one sweep may add to a transaction (Kafka Streams' EOS timeout is 10 s). */
  static final long SWEEP_BUDGET_NANOS = 500_000_000L;

  /** Marks the snapshots written in the history; counts their bytes (written since {@code before}). */
  private void record(Map<String, Long> written, long before) {
    written.forEach(history::markSnapshot);
    unsaved.removeAll(written.keySet());
    metrics.snapshotBytes(snapshots.bytesWritten() - before);
  }

  /**
   * Forwards a rejected record to the dead-letter topic: its key, value and headers, plus the
   * reason and where it came from. Bounded, so that it can always be produced: a value over
   * {@code dlqMaxValueBytes}, or over what the Streams producer's {@code max.request.size} leaves
   * once key and headers are counted, is cut to that length
   * ({@value DeadLetterHeaders#TRUNCATED_HEADER}: the
   * original length; {@value DeadLetterHeaders#ORIGINAL_SHA256_HEADER}: the original's SHA-256; the
   * source headers say where the whole record is), original headers over
   * {@value #MAX_COPIED_HEADER_BYTES} bytes in all are left out
   * ({@value DeadLetterHeaders#HEADERS_OMITTED_HEADER}: how many), and a key over
   * {@value #MAX_KEY_CHARS} characters is cut.
   */
  private void deadLetter(Record<String, byte[]> record, Rejection rejection) {
    metrics.rejected(rejection.code());
    byte[] value = record.value();
    RecordHeaders headers = new RecordHeaders();
    org.apache.kafka.common.header.Header[] original = record.headers().toArray();
    long originalHeaderBytes = 0;
    for (org.apache.kafka.common.header.Header h : original) {
      originalHeaderBytes += h.key().length() * 3L + (h.value() == null ? 0 : h.value().length);
    }
    if (originalHeaderBytes <= MAX_COPIED_HEADER_BYTES) {
      for (org.apache.kafka.common.header.Header h : original) {
        headers.add(h);
      }
    } else {
      headers.add(DeadLetterHeaders.HEADERS_OMITTED_HEADER,
          utf8(Integer.toString(original.length)));
    }
    headers.add(DeadLetterHeaders.REASON_HEADER, utf8(abbreviate(rejection.reason(), 1000)));
    headers.add(DeadLetterHeaders.REASON_CODE_HEADER, utf8(rejection.code().wireName()));
    context.recordMetadata().ifPresent(m -> {
      headers.add(DeadLetterHeaders.SOURCE_TOPIC_HEADER, utf8(m.topic()));
      headers.add(DeadLetterHeaders.SOURCE_PARTITION_HEADER, utf8(Integer.toString(m.partition())));
      headers.add(DeadLetterHeaders.SOURCE_OFFSET_HEADER, utf8(Long.toString(m.offset())));
    });
    String key = record.key();
    if (key != null && key.length() > MAX_KEY_CHARS) {
      headers.add(DeadLetterHeaders.KEY_TRUNCATED_HEADER, utf8(Integer.toString(key.length())));
      key = key.substring(0, MAX_KEY_CHARS);
    }
    // a refused send poisons an exactly-once transaction (the producer enters an error state
    // before any handler is asked), so the bound must hold before the send, not after it
    long fixed = RECORD_OVERHEAD_BYTES + (key == null ? 0 : key.length() * 3L) + 2L * 32;
    for (org.apache.kafka.common.header.Header h : headers) {
      fixed += h.key().length() * 3L + (h.value() == null ? 0 : h.value().length) + 8;
    }
    int bound = (int) Math.max(0, Math.min(settings.dlqMaxValueBytes(),
        producerMaxRequestBytes - fixed - 256));
    if (value != null && value.length > bound) {
      headers.add(DeadLetterHeaders.TRUNCATED_HEADER, utf8(Integer.toString(value.length)));
      headers.add(DeadLetterHeaders.ORIGINAL_SHA256_HEADER, utf8(sha256(value)));
      value = java.util.Arrays.copyOf(value, bound);
    }
    context.forward(new Record<String, Output>(key, new DeadLetter(value, rejection.code()),
        record.timestamp(), headers));
  }

  /** Kafka's producer default for max.request.size. */
  static final int DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024;
  /** A record batch's and a record's framing, generously (61 + 21 bytes in Kafka's v2 format). */
  static final int RECORD_OVERHEAD_BYTES = 128;

  /** The Streams producer's max.request.size from the application's configs. */
  static int maxRequestBytes(Map<String, Object> configs) {
    Object v = configs.get("producer." + org.apache.kafka.clients.producer.ProducerConfig
        .MAX_REQUEST_SIZE_CONFIG);
    if (v == null) {
      v = configs.get(org.apache.kafka.clients.producer.ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
    }
    if (v == null) {
      return DEFAULT_MAX_REQUEST_BYTES;
    }
    try {
      return Integer.parseInt(v.toString().trim());
    } catch (NumberFormatException e) {
      return DEFAULT_MAX_REQUEST_BYTES;
    }
  }

  /** Original headers are copied to a dead-letter record while they take at most this many bytes. */
  static final int MAX_COPIED_HEADER_BYTES = 16 * 1024;
  /** A dead-letter record's key is cut to this many characters. */
  static final int MAX_KEY_CHARS = 1024;

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String abbreviate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max - 3) + "...";
  }

  private static String sha256(byte[] value) {
    try {
      return java.util.HexFormat.of().formatHex(
          java.security.MessageDigest.getInstance("SHA-256").digest(value));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
