package dev.reranker.experiment;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An experiment's report: per arm, online quality (HR@k, NDCG@k, MRR over resolved exposures) with
 * 95% confidence intervals, cost (latency percentiles, state bytes), and the performer-vs-softmax
 * differences with two-sided significance tests; in shadow mode, how far the arms agree.
 *
 * <p>Statistics: HR@k is a proportion — Wilson score interval, and a two-proportion z-test for the
 * difference. NDCG@k and MRR are means of per-exposure values in [0, 1] — normal intervals
 * (mean ± 1.96·s/√n), and Welch's test with a normal reference distribution for the difference
 * (the exposures counted here are in the hundreds or more).
 *
 * <p>Everything is computed over the tracker's window: the most recent exposures, outcomes and
 * shadow comparisons of the experiment ({@code window} in the report says how many, and how many
 * were seen in all).
 */
public final class ExperimentReport {
  private ExperimentReport() {}

  static final double Z95 = 1.959963984540054;

  public static Map<String, Object> build(Experiment e, OutcomeTracker tracker) {
    List<OutcomeTracker.Outcome> outcomes = tracker.outcomes(e.id());
    List<OutcomeTracker.Cost> exposures = tracker.costs(e.id());
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("experiment", e.id());
    doc.put("k", e.k());
    doc.put("shadow", e.shadow());
    Map<String, Object> weights = new LinkedHashMap<>();
    e.weights().forEach((a, w) -> weights.put(a.wireName(), w));
    doc.put("weights", weights);
    Map<String, Object> window = new LinkedHashMap<>();
    window.put("capacity", tracker.window());
    window.put("exposures_seen", tracker.exposuresSeen(e.id()));
    window.put("outcomes_seen", tracker.outcomesSeen(e.id()));
    doc.put("window", window);
    Map<String, Object> arms = new LinkedHashMap<>();
    for (ArmChoice arm : ArmChoice.values()) {
      List<OutcomeTracker.Outcome> mine = outcomes.stream()
          .filter(o -> o.arm() == arm).toList();
      List<OutcomeTracker.Cost> shown = exposures.stream()
          .filter(x -> x.arm() == arm)
          .toList();
      if (mine.isEmpty() && shown.isEmpty()) {
        continue;
      }
      arms.put(arm.wireName(), armReport(mine, shown));
    }
    doc.put("arms", arms);
    doc.put("comparison", compare(outcomes, ArmChoice.PERFORMER, ArmChoice.SOFTMAX));
    List<OutcomeTracker.Agreement> agreements = tracker.agreements(e.id());
    if (!agreements.isEmpty()) {
      Map<String, Object> shadow = new LinkedHashMap<>();
      shadow.put("requests", agreements.size());
      shadow.put("mean_overlap_at_k", round(agreements.stream()
          .mapToDouble(OutcomeTracker.Agreement::overlapAtK).average().orElse(0)));
      shadow.put("mean_kendall_tau", round(agreements.stream()
          .mapToDouble(OutcomeTracker.Agreement::kendallTau).average().orElse(0)));
      shadow.put("served_ms_p50", round(percentile(agreements.stream()
          .mapToDouble(OutcomeTracker.Agreement::servedMs).toArray(), 50)));
      shadow.put("shadow_ms_p50", round(percentile(agreements.stream()
          .mapToDouble(OutcomeTracker.Agreement::shadowMs).toArray(), 50)));
      doc.put("shadow_agreement", shadow);
    }
    return doc;
  }

  private static Map<String, Object> armReport(List<OutcomeTracker.Outcome> outcomes,
      List<OutcomeTracker.Cost> exposures) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("exposures", exposures.size());
    m.put("outcomes", outcomes.size());
    m.put("degraded", exposures.stream().filter(OutcomeTracker.Cost::degraded).count());
    int n = outcomes.size();
    long hits = outcomes.stream().filter(OutcomeTracker.Outcome::hit).count();
    m.put("hr_at_k", interval(n == 0 ? 0 : (double) hits / n, wilson(hits, n)));
    m.put("ndcg_at_k", meanInterval(outcomes.stream().mapToDouble(OutcomeTracker.Outcome::ndcg)
        .toArray()));
    m.put("mrr", meanInterval(outcomes.stream()
        .mapToDouble(OutcomeTracker.Outcome::reciprocalRank).toArray()));
    double[] latency = exposures.stream().mapToDouble(OutcomeTracker.Cost::tookMs).toArray();
    Map<String, Object> lat = new LinkedHashMap<>();
    lat.put("p50", round(percentile(latency, 50)));
    lat.put("p95", round(percentile(latency, 95)));
    lat.put("p99", round(percentile(latency, 99)));
    lat.put("histogram", histogram(latency));
    m.put("latency_ms", lat);
    m.put("mean_state_bytes", Math.round(exposures.stream()
        .mapToLong(OutcomeTracker.Cost::stateBytes)
        .average().orElse(0)));
    m.put("hr_over_time", overTime(outcomes));
    return m;
  }

  /** Cumulative HR@k with its Wilson interval after each tenth of the outcomes, in time order. */
  private static List<Map<String, Object>> overTime(List<OutcomeTracker.Outcome> outcomes) {
    List<OutcomeTracker.Outcome> sorted = new ArrayList<>(outcomes);
    sorted.sort(Comparator.comparingLong(OutcomeTracker.Outcome::timestamp));
    List<Map<String, Object>> points = new ArrayList<>();
    int steps = Math.min(10, sorted.size());
    long hits = 0;
    int next = 1;
    for (int i = 0; i < sorted.size(); i++) {
      hits += sorted.get(i).hit() ? 1 : 0;
      int n = i + 1;
      if (n * steps >= next * sorted.size()) {
        Map<String, Object> p = interval((double) hits / n, wilson(hits, n));
        p.put("n", n);
        p.put("timestamp", sorted.get(i).timestamp());
        points.add(p);
        next++;
      }
    }
    return points;
  }

  private static Map<String, Object> compare(List<OutcomeTracker.Outcome> outcomes,
      ArmChoice a, ArmChoice b) {
    List<OutcomeTracker.Outcome> x = outcomes.stream().filter(o -> o.arm() == a).toList();
    List<OutcomeTracker.Outcome> y = outcomes.stream().filter(o -> o.arm() == b).toList();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("arms", a.wireName() + " - " + b.wireName());
    if (x.size() < 2 || y.size() < 2) {
      m.put("note", "too few outcomes to compare");
      return m;
    }
    long hx = x.stream().filter(OutcomeTracker.Outcome::hit).count();
    long hy = y.stream().filter(OutcomeTracker.Outcome::hit).count();
    m.put("hr_at_k", twoProportion(hx, x.size(), hy, y.size()));
    m.put("ndcg_at_k", welch(x.stream().mapToDouble(OutcomeTracker.Outcome::ndcg).toArray(),
        y.stream().mapToDouble(OutcomeTracker.Outcome::ndcg).toArray()));
    m.put("mrr", welch(x.stream().mapToDouble(OutcomeTracker.Outcome::reciprocalRank).toArray(),
        y.stream().mapToDouble(OutcomeTracker.Outcome::reciprocalRank).toArray()));
    return m;
  }

  /** Two-proportion z-test; the difference's interval uses the unpooled standard error. */
  static Map<String, Object> twoProportion(long hx, int nx, long hy, int ny) {
    double px = (double) hx / nx;
    double py = (double) hy / ny;
    double pooled = (double) (hx + hy) / (nx + ny);
    double sePooled = Math.sqrt(pooled * (1 - pooled) * (1.0 / nx + 1.0 / ny));
    double se = Math.sqrt(px * (1 - px) / nx + py * (1 - py) / ny);
    double z = sePooled == 0 ? 0 : (px - py) / sePooled;
    return difference(px - py, se, z, "two-proportion z-test");
  }

  /** Welch's unequal-variance test (normal reference: large samples). */
  static Map<String, Object> welch(double[] x, double[] y) {
    double mx = Arrays.stream(x).average().orElse(0);
    double my = Arrays.stream(y).average().orElse(0);
    double se = Math.sqrt(variance(x, mx) / x.length + variance(y, my) / y.length);
    double z = se == 0 ? 0 : (mx - my) / se;
    return difference(mx - my, se, z, "Welch test (normal approximation)");
  }

  private static Map<String, Object> difference(double diff, double se, double z, String test) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("difference", round(diff));
    m.put("ci95", List.of(round(diff - Z95 * se), round(diff + Z95 * se)));
    m.put("z", round(z));
    m.put("p_value", round(2 * (1 - normalCdf(Math.abs(z)))));
    m.put("test", test);
    return m;
  }

  /** Wilson score interval of a proportion. */
  static double[] wilson(long hits, int n) {
    if (n == 0) {
      return new double[] {0, 1};
    }
    double p = (double) hits / n;
    double z2 = Z95 * Z95;
    double center = (p + z2 / (2 * n)) / (1 + z2 / n);
    double half = Z95 * Math.sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / (1 + z2 / n);
    return new double[] {Math.max(0, center - half), Math.min(1, center + half)};
  }

  private static Map<String, Object> meanInterval(double[] values) {
    double mean = Arrays.stream(values).average().orElse(0);
    double half = values.length < 2 ? 0 : Z95 * Math.sqrt(variance(values, mean) / values.length);
    return interval(mean, new double[] {mean - half, mean + half});
  }

  private static Map<String, Object> interval(double value, double[] ci) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("value", round(value));
    m.put("ci95", List.of(round(ci[0]), round(ci[1])));
    return m;
  }

  private static double variance(double[] v, double mean) {
    if (v.length < 2) {
      return 0;
    }
    double s = 0;
    for (double x : v) {
      s += (x - mean) * (x - mean);
    }
    return s / (v.length - 1);
  }

  static double percentile(double[] values, double p) {
    if (values.length == 0) {
      return 0;
    }
    double[] s = values.clone();
    Arrays.sort(s);
    int i = (int) Math.ceil(p / 100 * s.length) - 1;
    return s[Math.max(0, Math.min(s.length - 1, i))];
  }

  /** Latency counts in log-spaced bins (upper edges in ms). */
  private static Map<String, Object> histogram(double[] latency) {
    double[] edges = {0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, Double.POSITIVE_INFINITY};
    long[] counts = new long[edges.length];
    for (double x : latency) {
      int i = 0;
      while (x > edges[i]) {
        i++;
      }
      counts[i]++;
    }
    Map<String, Object> m = new LinkedHashMap<>();
    List<String> labels = new ArrayList<>();
    for (double e : edges) {
      labels.add(Double.isInfinite(e) ? "inf" : Double.toString(e));
    }
    m.put("upper_edges_ms", labels);
    m.put("counts", Arrays.stream(counts).boxed().toList());
    return m;
  }

  /** The standard normal CDF (Abramowitz & Stegun 7.1.26 erf; |error| < 1.5e-7). */
  static double normalCdf(double z) {
    double x = Math.abs(z) / Math.sqrt(2);
    double t = 1 / (1 + 0.3275911 * x);
    double erf = 1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027
        + t * 1.061405429)))) * Math.exp(-x * x);
    return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
  }

  static double round(double x) {
    return Math.round(x * 1e6) / 1e6;
  }
}
