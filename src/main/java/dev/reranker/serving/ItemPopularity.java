package dev.reranker.serving;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The fallback ranking: how often each item was interacted with, over the events this instance has
 * applied since it started (its own partitions' users). Used for users with no history (cold
 * start), for candidates the model does not know, and when a request runs out of time. Items never
 * seen score 0; ties keep the caller's order. Thread-safe.
 */
public final class ItemPopularity {

  private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

  public void record(String itemId) {
    counts.computeIfAbsent(itemId, k -> new LongAdder()).increment();
  }

  public long count(String itemId) {
    LongAdder a = counts.get(itemId);
    return a == null ? 0 : a.sum();
  }
}
