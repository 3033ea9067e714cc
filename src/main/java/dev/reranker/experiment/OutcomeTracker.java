package dev.reranker.experiment;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Joins each exposure with the same user's next interaction — online quality per arm — and collects
 * latencies, state sizes and, in shadow mode, how far the two model arms agree.
 *
 * <p>An exposure waits for the user's next applied interaction within {@link #HORIZON_MS}; its
 * outcome is the interacted item's rank in the served list (a miss if absent). The join runs where
 * both meet: the instance that owns the user (requests are routed to the owner, and the owner
 * applies the user's interactions). It is kept in memory, and bounded: per experiment, the most
 * recent {@code window} costs, outcomes and agreements (compact records, ≈ 50 bytes each), and one
 * pending exposure per user, dropped once past the horizon. A reranker serves thousands of requests
 * a second for months; keeping every exposure would grow the heap by megabytes a second. Thread-safe.
 */
public final class OutcomeTracker {

  /** How long an exposure waits for the user's next interaction. */
  public static final long HORIZON_MS = 24 * 3_600_000L;
  /** Records kept per experiment (costs, outcomes, agreements each) unless configured. */
  public static final int DEFAULT_WINDOW = 100_000;
  /** Exposures between sweeps of pending exposures past the horizon. */
  static final int SWEEP_EVERY = 10_000;

  /** One resolved exposure. */
  public record Outcome(ArmChoice arm, int rank, int k, long timestamp) {
    public boolean hit() {
      return rank > 0 && rank <= k;
    }

    public double ndcg() {
      return hit() ? 1 / (Math.log(rank + 1) / Math.log(2)) : 0;
    }

    public double reciprocalRank() {
      return rank > 0 ? 1.0 / rank : 0;
    }
  }

  /** What one exposure cost its arm. */
  public record Cost(ArmChoice arm, double tookMs, long stateBytes, boolean degraded) {}

  /** One shadow comparison. */
  public record Agreement(double overlapAtK, double kendallTau, double servedMs, double shadowMs,
      ArmChoice servedArm) {}

  /** The most recent {@code capacity} records, and how many were ever added. */
  static final class Window<T> {
    private final Object[] ring;
    private long added;

    Window(int capacity) {
      ring = new Object[capacity];
    }

    synchronized void add(T value) {
      ring[(int) (added++ % ring.length)] = value;
    }

    synchronized long added() {
      return added;
    }

    /** Oldest first. */
    @SuppressWarnings("unchecked")
    synchronized List<T> snapshot() {
      int n = (int) Math.min(added, ring.length);
      List<T> out = new ArrayList<>(n);
      for (long i = added - n; i < added; i++) {
        out.add((T) ring[(int) (i % ring.length)]);
      }
      return out;
    }
  }

  private final int window;
  private final Map<String, Map<String, Exposure>> pendingByExperiment = new ConcurrentHashMap<>();
  private final Map<String, Window<Outcome>> outcomes = new ConcurrentHashMap<>();
  private final Map<String, Window<Cost>> costs = new ConcurrentHashMap<>();
  private final Map<String, Window<Agreement>> agreements = new ConcurrentHashMap<>();
  private final AtomicLong exposuresSinceSweep = new AtomicLong();

  public OutcomeTracker() {
    this(DEFAULT_WINDOW);
  }

  /** @param window records kept per experiment, of each kind (≥ 1) */
  public OutcomeTracker(int window) {
    if (window < 1) {
      throw new IllegalArgumentException("window must be ≥ 1, got " + window);
    }
    this.window = window;
  }

  public int window() {
    return window;
  }

  /** Records an exposure (the user's previous unresolved one, if any, is replaced). */
  public void exposed(Exposure e) {
    if (e.error()) {
      return; // nothing was served: the durable report counts it against the arm's error rate
    }
    Map<String, Exposure> pending = pendingByExperiment.computeIfAbsent(e.experiment(),
        x -> new ConcurrentHashMap<>());
    pending.put(e.userId(), e);
    costs.computeIfAbsent(e.experiment(), x -> new Window<>(window))
        .add(new Cost(e.arm(), e.tookMs(), e.stateBytes(), e.degraded()));
    if (exposuresSinceSweep.incrementAndGet() % SWEEP_EVERY == 0) {
      sweep(e.timestamp());
    }
  }

  /** Drops pending exposures that no interaction can resolve any more. */
  void sweep(long now) {
    for (Map<String, Exposure> pending : pendingByExperiment.values()) {
      pending.values().removeIf(p -> now - p.timestamp() > HORIZON_MS);
    }
  }

  /** Pending exposures, all experiments together. */
  public int pendingCount() {
    return pendingByExperiment.values().stream().mapToInt(Map::size).sum();
  }

  /** An applied interaction: resolves the user's pending exposure in every experiment. */
  public void interacted(String userId, String itemId, long timestamp) {
    for (Map.Entry<String, Map<String, Exposure>> byExp : pendingByExperiment.entrySet()) {
      Exposure p = byExp.getValue().get(userId);
      if (p == null || timestamp < p.timestamp() || timestamp - p.timestamp() > HORIZON_MS) {
        continue;
      }
      if (!byExp.getValue().remove(userId, p)) {
        continue; // resolved concurrently
      }
      int rank = p.served().indexOf(itemId) + 1;
      outcomes.computeIfAbsent(byExp.getKey(), x -> new Window<>(window))
          .add(new Outcome(p.arm(), rank, p.k(), timestamp));
    }
  }

  /** A shadow comparison of the served and the shadow arm. */
  public void agreement(String experiment, Agreement a) {
    agreements.computeIfAbsent(experiment, x -> new Window<>(window)).add(a);
  }

  /** The most recent outcomes (at most {@link #window()}), oldest first. */
  public List<Outcome> outcomes(String experiment) {
    Window<Outcome> w = outcomes.get(experiment);
    return w == null ? List.of() : w.snapshot();
  }

  /** The most recent exposures' costs (at most {@link #window()}), oldest first. */
  public List<Cost> costs(String experiment) {
    Window<Cost> w = costs.get(experiment);
    return w == null ? List.of() : w.snapshot();
  }

  /** The most recent shadow comparisons (at most {@link #window()}), oldest first. */
  public List<Agreement> agreements(String experiment) {
    Window<Agreement> w = agreements.get(experiment);
    return w == null ? List.of() : w.snapshot();
  }

  /** Exposures ever recorded for the experiment (not only those in the window). */
  public long exposuresSeen(String experiment) {
    Window<Cost> w = costs.get(experiment);
    return w == null ? 0 : w.added();
  }

  /** Outcomes ever resolved for the experiment. */
  public long outcomesSeen(String experiment) {
    Window<Outcome> w = outcomes.get(experiment);
    return w == null ? 0 : w.added();
  }

  /**
   * Overlap of the two top-k lists (share of the served top-k also in the shadow top-k) and Kendall's
   * tau-b between the two orders of the items in the served top-k.
   */
  public static Agreement compare(List<String> served, List<String> shadow, int k,
      double servedMs, double shadowMs, ArmChoice servedArm) {
    int n = Math.min(k, served.size());
    List<String> top = served.subList(0, n);
    List<String> shadowTop = shadow.subList(0, Math.min(k, shadow.size()));
    long common = top.stream().filter(shadowTop::contains).count();
    double overlap = n == 0 ? 1 : (double) common / n;
    Map<String, Integer> shadowRank = new java.util.HashMap<>();
    for (int i = 0; i < shadow.size(); i++) {
      shadowRank.put(shadow.get(i), i);
    }
    long concordant = 0;
    long discordant = 0;
    for (int i = 0; i < n; i++) {
      for (int j = i + 1; j < n; j++) {
        int a = shadowRank.getOrDefault(top.get(i), Integer.MAX_VALUE);
        int b = shadowRank.getOrDefault(top.get(j), Integer.MAX_VALUE);
        if (a < b) {
          concordant++;
        } else if (a > b) {
          discordant++;
        }
      }
    }
    long pairs = concordant + discordant;
    double tau = pairs == 0 ? 1 : (double) (concordant - discordant) / pairs;
    return new Agreement(overlap, tau, servedMs, shadowMs, servedArm);
  }
}
