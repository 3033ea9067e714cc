package dev.reranker.experiment;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Shadow mode's one number the durable report cannot hold: how far the two model arms agree on
 * the same request (the served arm's list against the other arm's, computed beside it). Kept in
 * memory per instance and bounded: per experiment the most recent {@code window} comparisons
 * (compact records, ≈ 50 bytes each). Everything else an experiment reports — quality, cost,
 * guardrails — comes from the durable outcome join ({@link OutcomeJoin}, {@link AggregateReport}),
 * the same whichever instance answers. Thread-safe.
 */
public final class ShadowAgreement {

  /** Comparisons kept per experiment unless configured. */
  public static final int DEFAULT_WINDOW = 100_000;

  /** One shadow comparison. */
  public record Agreement(double overlapAtK, double kendallTau, double servedMs, double shadowMs,
      ArmChoice servedArm) {}

  /** The most recent {@code capacity} comparisons, and how many were ever added. */
  private static final class Window {
    private final Agreement[] ring;
    private long added;

    Window(int capacity) {
      ring = new Agreement[capacity];
    }

    synchronized void add(Agreement value) {
      ring[(int) (added++ % ring.length)] = value;
    }

    /** Oldest first. */
    synchronized List<Agreement> snapshot() {
      int n = (int) Math.min(added, ring.length);
      List<Agreement> out = new ArrayList<>(n);
      for (long i = added - n; i < added; i++) {
        out.add(ring[(int) (i % ring.length)]);
      }
      return out;
    }

    synchronized long added() {
      return added;
    }
  }

  private final int window;
  private final Map<String, Window> byExperiment = new ConcurrentHashMap<>();

  public ShadowAgreement() {
    this(DEFAULT_WINDOW);
  }

  /** @param window comparisons kept per experiment (≥ 1) */
  public ShadowAgreement(int window) {
    if (window < 1) {
      throw new IllegalArgumentException("window must be ≥ 1, got " + window);
    }
    this.window = window;
  }

  /** A shadow comparison of the served and the shadow arm. */
  public void add(String experiment, Agreement a) {
    byExperiment.computeIfAbsent(experiment, x -> new Window(window)).add(a);
  }

  /** The most recent comparisons (at most the window), oldest first. */
  public List<Agreement> recent(String experiment) {
    Window w = byExperiment.get(experiment);
    return w == null ? List.of() : w.snapshot();
  }

  /**
   * The report's section: over the comparisons in the window, mean overlap@k and Kendall's τ, the
   * served and shadow p50 latencies; null when the experiment had none on this instance.
   */
  public Map<String, Object> summary(String experiment) {
    Window w = byExperiment.get(experiment);
    List<Agreement> all = w == null ? List.of() : w.snapshot();
    if (all.isEmpty()) {
      return null;
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("requests", all.size());
    out.put("requests_since_start", w.added());
    out.put("mean_overlap_at_k", round(all.stream().mapToDouble(Agreement::overlapAtK)
        .average().orElse(0)));
    out.put("mean_kendall_tau", round(all.stream().mapToDouble(Agreement::kendallTau)
        .average().orElse(0)));
    out.put("served_ms_p50", round(median(all.stream().mapToDouble(Agreement::servedMs)
        .toArray())));
    out.put("shadow_ms_p50", round(median(all.stream().mapToDouble(Agreement::shadowMs)
        .toArray())));
    out.put("scope", "this instance since it started, the last " + window + " comparisons at "
        + "most: the only part of the report not assembled from every instance's durable state");
    return out;
  }

  /**
   * Overlap of the two top-k lists (share of the served top-k also in the shadow top-k) and
   * Kendall's tau-b between the two orders of the items in the served top-k.
   */
  public static Agreement compare(List<String> served, List<String> shadow, int k,
      double servedMs, double shadowMs, ArmChoice servedArm) {
    int n = Math.min(k, served.size());
    List<String> top = served.subList(0, n);
    List<String> shadowTop = shadow.subList(0, Math.min(k, shadow.size()));
    long common = top.stream().filter(shadowTop::contains).count();
    double overlap = n == 0 ? 1 : (double) common / n;
    Map<String, Integer> shadowRank = new HashMap<>();
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

  /** The lower median (nearest rank), as the report's other percentiles. */
  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[Math.max(0, (int) Math.ceil(0.5 * s.length) - 1)];
  }

  private static double round(double x) {
    return Math.round(x * 1e6) / 1e6;
  }
}
