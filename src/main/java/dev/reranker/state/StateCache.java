package dev.reranker.state;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import com.github.benmanes.caffeine.cache.stats.CacheStats;
import dev.reranker.model.Arm;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.cache.CaffeineCacheMetrics;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

/**
 * The hot, deserialised per-user states: a Caffeine cache keyed by (user, arm), bounded by bytes.
 * Each entry weighs its state's exact byte size, so the FAVOR+ arm's constant-size states and the
 * softmax arm's KV caches compete for the same budget at their true cost, and the cache's own
 * weighted size per arm shows what each arm costs.
 *
 * <p>Weights are computed when an entry is put; a fold that changes a state's size (the softmax
 * arm's) is followed by {@link #put} again to re-weigh it. Time comes from an injected
 * {@link Ticker} (tests move it).
 */
public final class StateCache {

  /** Bytes charged per entry on top of its state: key, entry and object headers, roughly. */
  static final int ENTRY_OVERHEAD = 128;

  private final Cache<StateKey, CachedState> cache;
  private final long maximumBytes;

  /**
   * @param maximumBytes the byte budget (maximumWeight)
   * @param expireAfterAccess drop entries idle this long, or null to keep them until evicted
   */
  public StateCache(long maximumBytes, Duration expireAfterAccess, Ticker ticker) {
    if (maximumBytes < 1) {
      throw new IllegalArgumentException("maximumBytes must be ≥ 1, got " + maximumBytes);
    }
    this.maximumBytes = maximumBytes;
    Caffeine<Object, Object> builder = Caffeine.newBuilder()
        .maximumWeight(maximumBytes)
        .ticker(ticker)
        .recordStats();
    if (expireAfterAccess != null) {
      builder.expireAfterAccess(expireAfterAccess);
    }
    this.cache = builder.<StateKey, CachedState>weigher((key, value) ->
        (int) Math.min(Integer.MAX_VALUE, value.byteSize() + ENTRY_OVERHEAD)).build();
  }

  public CachedState getIfPresent(StateKey key) {
    return cache.getIfPresent(key);
  }

  /** Inserts or re-weighs an entry. */
  public void put(StateKey key, CachedState value) {
    cache.put(key, value);
  }

  public void invalidate(StateKey key) {
    cache.invalidate(key);
  }

  /** Removes the entry only if {@code expected} is still the one cached under the key. */
  void invalidate(StateKey key, CachedState expected) {
    cache.asMap().remove(key, expected);
  }

  public void invalidateAll() {
    cache.invalidateAll();
  }

  /** Entries of one arm (a snapshot of the current contents). */
  public Map<String, CachedState> entries(Arm arm) {
    Map<String, CachedState> out = new java.util.HashMap<>();
    cache.asMap().forEach((k, v) -> {
      if (k.arm() == arm) {
        out.put(k.userId(), v);
      }
    });
    return out;
  }

  public long maximumBytes() {
    return maximumBytes;
  }

  /** Bytes held per arm: the states' exact sizes. */
  public Map<Arm, Long> bytesByArm() {
    Map<Arm, Long> bytes = new EnumMap<>(Arm.class);
    for (Arm a : Arm.values()) {
      bytes.put(a, 0L);
    }
    cache.asMap().forEach((k, v) -> bytes.merge(k.arm(), v.byteSize(), Long::sum));
    return bytes;
  }

  public long weightedSize() {
    return cache.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
  }

  public CacheStats stats() {
    return cache.stats();
  }

  public long estimatedSize() {
    return cache.estimatedSize();
  }

  /** Runs pending maintenance (evictions) now; for tests. */
  public void cleanUp() {
    cache.cleanUp();
  }

  /**
   * Exports hit rate, evictions, size and weighted size (Micrometer's Caffeine binder) plus the
   * bytes and entries held per arm.
   */
  public void bindTo(MeterRegistry registry) {
    CaffeineCacheMetrics.monitor(registry, cache, "encoder-states");
    for (Arm arm : Arm.values()) {
      Gauge.builder("reranker.state.cache.bytes", this, c -> c.bytesByArm().get(arm))
          .tag("arm", arm.wireName())
          .description("exact bytes of the cached encoder states of one arm")
          .baseUnit("bytes")
          .register(registry);
      Gauge.builder("reranker.state.cache.entries", this, c -> c.entries(arm).size())
          .tag("arm", arm.wireName())
          .register(registry);
    }
  }
}
