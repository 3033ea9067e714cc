package dev.reranker.ingest;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.processor.StateRestoreListener;

/**
 * Which of this instance's active stores are being restored from their changelogs right now.
 * Restoration runs on Kafka Streams' state updater thread; the client's RUNNING state is not
 * documented to wait for it (with Kafka 4.1 it was measured to), so readiness waits for this to
 * reach zero too rather than trust RUNNING alone. Thread-safe (called from the state updater thread, read by health checks).
 */
public final class RestorationTracker implements StateRestoreListener {

  /** Records still to restore, per (changelog partition, store). */
  private final Map<String, Long> remaining = new ConcurrentHashMap<>();
  private final AtomicLong restoredRecords = new AtomicLong();
  private final AtomicLong completed = new AtomicLong();
  private final AtomicLong firstStartNanos = new AtomicLong();
  private final AtomicLong lastEndNanos = new AtomicLong();

  @Override
  public void onRestoreStart(TopicPartition partition, String store, long startingOffset,
      long endingOffset) {
    firstStartNanos.compareAndSet(0, System.nanoTime());
    remaining.put(key(partition, store), Math.max(0, endingOffset - startingOffset));
  }

  @Override
  public void onBatchRestored(TopicPartition partition, String store, long batchEndOffset,
      long numRestored) {
    restoredRecords.addAndGet(numRestored);
    remaining.computeIfPresent(key(partition, store), (k, v) -> Math.max(0, v - numRestored));
  }

  @Override
  public void onRestoreEnd(TopicPartition partition, String store, long totalRestored) {
    remaining.remove(key(partition, store));
    completed.incrementAndGet();
    lastEndNanos.set(System.nanoTime());
  }

  @Override
  public void onRestoreSuspended(TopicPartition partition, String store, long totalRestored) {
    remaining.remove(key(partition, store)); // the task moved away: nothing left to wait for here
  }

  /** Store partitions being restored now. */
  public int restoring() {
    return remaining.size();
  }

  /** Changelog records still to restore, roughly (from the offsets at the start). */
  public long remainingRecords() {
    return remaining.values().stream().mapToLong(Long::longValue).sum();
  }

  /** Changelog records restored since start-up. */
  public long restoredRecords() {
    return restoredRecords.get();
  }

  /** Store partitions whose restoration finished since start-up. */
  public long completedRestorations() {
    return completed.get();
  }

  /** {@link System#nanoTime()} when the first restoration started, or 0. */
  public long firstStartNanos() {
    return firstStartNanos.get();
  }

  /** {@link System#nanoTime()} when the latest restoration ended, or 0. */
  public long lastEndNanos() {
    return lastEndNanos.get();
  }

  private static String key(TopicPartition partition, String store) {
    return store + '@' + partition;
  }
}
