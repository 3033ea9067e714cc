package dev.reranker.ingest;

import dev.reranker.model.Arm;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.EnumMap;
import java.util.Map;

/**
 * What the ingestion counts: records applied, deduplicated and dead-lettered (by reason), unknown
 * items per arm, bytes written to each changelogged store, and the time spent folding.
 * applied + duplicates + rejected = records consumed.
 */
public final class IngestMetrics {

  /** Where the processing time of records goes. */
  public enum Stage {
    /** Size check and JSON parsing. */
    VALIDATE,
    /** The event-id lookup in the history store. */
    DEDUP,
    /** Appending to the history store. */
    HISTORY,
    /** Folding pending users' states and writing snapshots. */
    FOLD
  }

  private final Map<Stage, java.util.concurrent.atomic.LongAdder> stageNanos =
      new EnumMap<>(Stage.class);

  private final Counter applied;
  private final Counter duplicates;
  private final Counter rejected;
  private final Map<Rejection.Code, Counter> rejectedByReason = new EnumMap<>(Rejection.Code.class);
  private final Map<Arm, Counter> unknownItems = new EnumMap<>(Arm.class);
  private final Counter historyBytes;
  private final Counter dedupBytes;
  private final Counter snapshotBytes;
  private final Timer flush;
  private final MeterRegistry registry;
  private final Map<String, Counter> dlqFailures = new java.util.concurrent.ConcurrentHashMap<>();

  public IngestMetrics(MeterRegistry registry) {
    this.registry = registry;
    applied = Counter.builder("reranker.ingest.records").tag("outcome", "applied")
        .description("interaction records consumed, by outcome").register(registry);
    duplicates = Counter.builder("reranker.ingest.records").tag("outcome", "duplicate")
        .register(registry);
    rejected = Counter.builder("reranker.ingest.records").tag("outcome", "rejected")
        .register(registry);
    for (Rejection.Code code : Rejection.Code.values()) {
      rejectedByReason.put(code, Counter.builder("reranker.ingest.dlq")
          .tag("reason", code.wireName()).description("records sent to the dead-letter topic")
          .register(registry));
    }
    for (Arm arm : Arm.values()) {
      unknownItems.put(arm, Counter.builder("reranker.ingest.unknown.items")
          .tag("arm", arm.wireName())
          .description("applied events whose item the arm's model does not know (kept, not encoded)")
          .register(registry));
    }
    historyBytes = Counter.builder("reranker.ingest.changelog.bytes").tag("store", "history")
        .baseUnit("bytes").register(registry);
    dedupBytes = Counter.builder("reranker.ingest.changelog.bytes").tag("store", "dedup")
        .baseUnit("bytes").register(registry);
    snapshotBytes = Counter.builder("reranker.ingest.changelog.bytes").tag("store", "snapshots")
        .baseUnit("bytes").register(registry);
    flush = Timer.builder("reranker.ingest.flush")
        .description("folding a micro-batch of pending users").register(registry);
    for (Stage stage : Stage.values()) {
      java.util.concurrent.atomic.LongAdder nanos = new java.util.concurrent.atomic.LongAdder();
      stageNanos.put(stage, nanos);
      io.micrometer.core.instrument.FunctionCounter.builder("reranker.ingest.stage.seconds", nanos,
          n -> n.sum() / 1e9).tag("stage", stage.name().toLowerCase(java.util.Locale.ROOT))
          .description("processing time by stage").baseUnit("seconds").register(registry);
    }
  }

  void stage(Stage stage, long nanos) {
    stageNanos.get(stage).add(nanos);
  }

  /** Seconds spent in each stage so far. */
  public Map<Stage, Double> stageSeconds() {
    Map<Stage, Double> out = new EnumMap<>(Stage.class);
    stageNanos.forEach((k, v) -> out.put(k, v.sum() / 1e9));
    return out;
  }

  void applied() {
    applied.increment();
  }

  void duplicate() {
    duplicates.increment();
  }

  void rejected(Rejection.Code code) {
    rejected.increment();
    rejectedByReason.get(code).increment();
  }

  /** A dead-letter record the producer refused (counted, logged and skipped). */
  void deadLetterFailed(String reasonCode, String exception) {
    dlqFailures.computeIfAbsent(reasonCode + '/' + exception, k -> Counter.builder(
        "reranker.ingest.dlq.failed").tag("reason", reasonCode).tag("exception", exception)
        .description("dead-letter records the producer refused: the rejected record is counted "
            + "here instead (its source topic, partition and offset are logged)")
        .register(registry)).increment();
  }

  /** Dead-letter records the producer refused, all reasons. */
  public long deadLetterFailedCount() {
    return (long) dlqFailures.values().stream().mapToDouble(Counter::count).sum();
  }

  void unknownItem(Arm arm) {
    unknownItems.get(arm).increment();
  }

  void historyBytes(long n) {
    historyBytes.increment(n);
  }

  void dedupBytes(long n) {
    dedupBytes.increment(n);
  }

  void snapshotBytes(long n) {
    snapshotBytes.increment(n);
  }

  Timer flushTimer() {
    return flush;
  }

  public long appliedCount() {
    return (long) applied.count();
  }

  public long duplicateCount() {
    return (long) duplicates.count();
  }

  public long rejectedCount() {
    return (long) rejected.count();
  }

  public long rejectedCount(Rejection.Code code) {
    return (long) rejectedByReason.get(code).count();
  }

  public long unknownItemCount(Arm arm) {
    return (long) unknownItems.get(arm).count();
  }

  /** Bytes written to the changelogged stores, by store. */
  public Map<String, Long> changelogBytes() {
    return Map.of("history", (long) historyBytes.count(), "dedup", (long) dedupBytes.count(),
        "snapshots", (long) snapshotBytes.count());
  }

  public double flushSeconds() {
    return flush.totalTime(java.util.concurrent.TimeUnit.NANOSECONDS) / 1e9;
  }
}
