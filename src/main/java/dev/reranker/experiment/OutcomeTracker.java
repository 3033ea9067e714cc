package dev.reranker.experiment;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Joins each exposure with the same user's next interaction — online quality per arm — and collects
 * latencies, state sizes and, in shadow mode, how far the two model arms agree.
 *
 * <p>An exposure waits for the user's next applied interaction within {@link #HORIZON_MS}; its
 * outcome is the interacted item's rank in the served list (a miss if absent). The join runs where
 * both meet: the instance that owns the user (requests are routed to the owner, and the owner
 * applies the user's interactions). It is kept in memory: outcomes since this instance started.
 * Thread-safe.
 */
public final class OutcomeTracker {

  /** How long an exposure waits for the user's next interaction. */
  public static final long HORIZON_MS = 24 * 3_600_000L;

  /** One resolved exposure. */
  public record Outcome(String arm, int rank, int k, long timestamp) {
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

  /** One shadow comparison. */
  public record Agreement(double overlapAtK, double kendallTau, double servedMs, double shadowMs,
      String servedArm) {}

  private record Pending(Exposure exposure, int k) {}

  private final Map<String, Map<String, Pending>> pendingByExperiment = new ConcurrentHashMap<>();
  private final Map<String, List<Outcome>> outcomes = new ConcurrentHashMap<>();
  private final Map<String, List<Exposure>> exposures = new ConcurrentHashMap<>();
  private final Map<String, List<Agreement>> agreements = new ConcurrentHashMap<>();

  /** Records an exposure (the user's previous unresolved one, if any, is replaced). */
  public void exposed(Exposure e, int k) {
    pendingByExperiment.computeIfAbsent(e.experiment(), x -> new ConcurrentHashMap<>())
        .put(e.userId(), new Pending(e, k));
    List<Exposure> list = exposures.computeIfAbsent(e.experiment(), x -> new ArrayList<>());
    synchronized (list) {
      list.add(e);
    }
  }

  /** An applied interaction: resolves the user's pending exposure in every experiment. */
  public void interacted(String userId, String itemId, long timestamp) {
    for (Map.Entry<String, Map<String, Pending>> byExp : pendingByExperiment.entrySet()) {
      Pending p = byExp.getValue().get(userId);
      if (p == null || timestamp < p.exposure().timestamp()
          || timestamp - p.exposure().timestamp() > HORIZON_MS) {
        continue;
      }
      if (!byExp.getValue().remove(userId, p)) {
        continue; // resolved concurrently
      }
      int rank = p.exposure().served().indexOf(itemId) + 1;
      List<Outcome> list = outcomes.computeIfAbsent(byExp.getKey(), x -> new ArrayList<>());
      synchronized (list) {
        list.add(new Outcome(p.exposure().arm(), rank, p.k(), timestamp));
      }
    }
  }

  /** A shadow comparison of the served and the shadow arm. */
  public void agreement(String experiment, Agreement a) {
    List<Agreement> list = agreements.computeIfAbsent(experiment, x -> new ArrayList<>());
    synchronized (list) {
      list.add(a);
    }
  }

  public List<Outcome> outcomes(String experiment) {
    return copy(outcomes.get(experiment));
  }

  public List<Exposure> exposures(String experiment) {
    return copy(exposures.get(experiment));
  }

  public List<Agreement> agreements(String experiment) {
    return copy(agreements.get(experiment));
  }

  private static <T> List<T> copy(List<T> list) {
    if (list == null) {
      return List.of();
    }
    synchronized (list) {
      return List.copyOf(list);
    }
  }

  /**
   * Overlap of the two top-k lists (share of the served top-k also in the shadow top-k) and Kendall's
   * tau-b between the two orders of the items in the served top-k.
   */
  public static Agreement compare(List<String> served, List<String> shadow, int k,
      double servedMs, double shadowMs, String servedArm) {
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
