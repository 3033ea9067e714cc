package dev.reranker.experiment;

import dev.reranker.experiment.stats.Comparison;
import dev.reranker.experiment.stats.SampleRatio;
import dev.reranker.experiment.stats.UserMoments;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An experiment's report from its arms' aggregates ({@link ArmAggregate}, summed over every task
 * that holds some of its users): user-level metrics with delta-method intervals, the arms'
 * difference tested at a fixed horizon and always-validly, the sample-ratio check, the minimum
 * detectable effect, guardrails, and cost beside quality. The same aggregates give the same
 * report, whichever instance assembles it and whether they come from the live join or a replay.
 */
public final class AggregateReport {
  private AggregateReport() {}

  /**
   * @param tau the sequential test's mixing scale, in the metric's units
   * @param maxP99Ms guardrail: an arm's p99 latency above this is a breach
   * @param maxDegradedRate guardrail: an arm serving the fallback order for want of time or state
   *     more often than this is a breach
   * @param maxColdStartRate guardrail: an arm whose exposures go to users without history more
   *     often than this is a breach (its states are being lost)
   * @param targetMde the primary metric's difference the experiment is meant to detect: the report
   *     says how many more users and days that needs at the traffic so far
   * @param maxErrorRate guardrail: an arm whose requests fail (500, nothing served) more often than
   *     this is a breach
   */
  public record Settings(double tau, double maxP99Ms, double maxDegradedRate,
      double maxColdStartRate, double targetMde, double maxErrorRate) {
    public static Settings defaults() {
      return new Settings(0.02, 50, 0.01, 0.5, 0.01, 0.001);
    }
  }

  private static final long DAY_MS = 86_400_000L;

  private static final List<String> METRICS = List.of("hr_at_k", "ndcg_at_k", "mrr");
  private static final String PRIMARY = "ndcg_at_k";

  private static UserMoments metric(ArmAggregate a, String name) {
    return switch (name) {
      case "hr_at_k" -> a.hits();
      case "ndcg_at_k" -> a.ndcg();
      default -> a.reciprocalRank();
    };
  }

  public static Map<String, Object> build(Experiment e, Map<ArmChoice, ArmAggregate> arms,
      Settings s) {
    return build(e, arms, new java.util.TreeMap<>(), s);
  }

  /**
   * @param series per time bucket (start, epoch ms, ascending), each arm's aggregate as of then
   */
  public static Map<String, Object> build(Experiment e, Map<ArmChoice, ArmAggregate> arms,
      java.util.NavigableMap<Long, Map<ArmChoice, ArmAggregate>> series, Settings s) {
    return build(e, arms, series, s, Map.of());
  }

  /**
   * @param foldMicrosPerEvent the encoder's time per folded event, per model arm, as the
   *     instances measured it since they started (every event is folded for both model arms,
   *     whatever the assignment: a cost of the arm, not of its traffic)
   */
  public static Map<String, Object> build(Experiment e, Map<ArmChoice, ArmAggregate> arms,
      java.util.NavigableMap<Long, Map<ArmChoice, ArmAggregate>> series, Settings s,
      Map<ArmChoice, Double> foldMicrosPerEvent) {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("experiment", e.id());
    doc.put("k", e.k());
    doc.put("analysis", "user-level: each metric is Σ over users / Σ of their resolved exposures,"
        + " its variance by the delta method over users (users, not requests, are randomised)");
    Map<String, Object> weights = new LinkedHashMap<>();
    e.weights().forEach((a, w) -> weights.put(a.wireName(), w));
    doc.put("weights", weights);

    Map<ArmChoice, Long> users = new EnumMap<>(ArmChoice.class);
    Map<String, Object> perArm = new LinkedHashMap<>();
    for (ArmChoice arm : ArmChoice.values()) {
      ArmAggregate a = arms.get(arm);
      if (a == null) {
        continue;
      }
      users.put(arm, a.hits().users());
      Map<String, Object> r = armReport(a, s);
      Double fold = arm == ArmChoice.INTERLEAVED ? sumOrNull(foldMicrosPerEvent.get(
          ArmChoice.PERFORMER), foldMicrosPerEvent.get(ArmChoice.SOFTMAX))
          : foldMicrosPerEvent.get(arm);
      if (fold != null) {
        @SuppressWarnings("unchecked")
        Map<String, Object> cost = (Map<String, Object>) r.get("cost");
        cost.put("fold_us_per_event", round(Math.round(fold * 100) / 100.0));
      }
      perArm.put(arm.wireName(), r);
    }
    doc.put("arms", perArm);

    SampleRatio.Result srm = SampleRatio.test(users, e.weights());
    Map<String, Object> srmDoc = new LinkedHashMap<>();
    srmDoc.put("chi_squared", round(srm.chiSquared()));
    srmDoc.put("df", srm.degreesOfFreedom());
    srmDoc.put("p_value", significant(srm.p()));
    srmDoc.put("mismatch", srm.mismatch());
    srmDoc.put("alarm_below_p", SampleRatio.ALARM_P);
    doc.put("sample_ratio", srmDoc);

    ArmAggregate a = arms.get(ArmChoice.PERFORMER);
    ArmAggregate b = arms.get(ArmChoice.SOFTMAX);
    Map<String, Object> comparison = new LinkedHashMap<>();
    comparison.put("arms", "performer - softmax");
    if (a == null || b == null || a.hits().users() < 2 || b.hits().users() < 2) {
      comparison.put("note", "too few users in one of the arms to compare");
    } else {
      for (String m : METRICS) {
        comparison.put(m, compare(metric(a, m), metric(b, m), s));
      }
    }
    doc.put("comparison", comparison);
    if (a != null && b != null && a.hits().users() >= 2 && b.hits().users() >= 2) {
      doc.put("power", power(a, b, s));
    }
    Map<String, Object> verdict = verdict(comparison, srm, perArm);
    ArmAggregate il = arms.get(ArmChoice.INTERLEAVED);
    if (il != null && il.hits().users() > 0) {
      Map<String, Object> interleaving = interleaving(il);
      doc.put("interleaving", interleaving);
      verdict.put("interleaving", interleaving.get("summary"));
      if (!(comparison.get(PRIMARY) instanceof Map<?, ?>) && !srm.mismatch()) {
        verdict.put("summary", interleaving.get("summary"));
      }
    }
    doc.put("verdict", verdict);
    doc.put("series", seriesDoc(series, s));
    return finite(doc);
  }

  /**
   * JSON has no infinities or NaN: a bound that does not exist (no variance yet, too few users) is
   * null. Replaces them throughout the document.
   */
  @SuppressWarnings("unchecked")
  private static <T> T finite(T node) {
    if (node instanceof Map<?, ?> m) {
      ((Map<String, Object>) m).replaceAll((k, v) -> finite(v));
    } else if (node instanceof List<?> l) {
      List<Object> out = new java.util.ArrayList<>(l.size());
      l.forEach(v -> out.add(finite(v)));
      return (T) out;
    } else if (node instanceof Double d && !Double.isFinite(d)) {
      return null;
    }
    return node;
  }

  /**
   * The primary metric's MDE at 80 % power now, and at the traffic so far (users per day since the
   * first exposure) how many more users and days reach the configured target.
   */
  private static Map<String, Object> power(ArmAggregate a, ArmAggregate b, Settings s) {
    UserMoments x = metric(a, PRIMARY);
    UserMoments y = metric(b, PRIMARY);
    double se = Math.sqrt(x.ratioVariance() + y.ratioVariance());
    long users = x.users() + y.users();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("metric", PRIMARY);
    m.put("mde_at_80pct_power", round(Comparison.minimumDetectableEffect(se, 0.05, 0.8)));
    m.put("target_mde", s.targetMde());
    double more = Comparison.usersToDetect(se, users, 0.05, 0.8, s.targetMde());
    m.put("users_so_far", users);
    m.put("more_users_needed", Double.isFinite(more) ? Math.round(Math.ceil(more)) : null);
    long first = Math.min(a.firstServed(), b.firstServed());
    long last = Math.max(a.lastServed(), b.lastServed());
    double days = (last - first) / (double) DAY_MS;
    // users arrive ever more slowly as an experiment ages (returning users are not new), so this
    // linear rate is optimistic: a lower bound on the days left
    // under an hour of traffic says nothing about a daily rate (and a day's cycle is not seen yet)
    double perDay = days < 1.0 / 24 ? Double.NaN : users / days;
    m.put("users_per_day", Double.isFinite(perDay) ? Math.round(perDay) : null);
    Double daysLeft = null;
    if (more == 0) {
      daysLeft = 0.0;
    } else if (Double.isFinite(perDay) && Double.isFinite(more)) {
      daysLeft = Math.round(more / perDay * 10) / 10.0;
    }
    m.put("days_left_at_least", daysLeft);
    return m;
  }

  /**
   * The interleaved arm: users by the arm their credits favour, Δ = (prefer performer − prefer
   * softmax) / users, the sign test over users with a preference, and the Wilson interval of the
   * performer's share among them. The sign test is a fixed-horizon test: read it once, at the
   * planned number of users.
   */
  private static Map<String, Object> interleaving(ArmAggregate il) {
    dev.reranker.experiment.stats.Preference pref = il.preference();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("method", "Team-Draft interleaving; per user, the arm whose items got more of the "
        + "user's interactions is preferred; sign test over users with a preference (read once)");
    m.put("users", pref.users());
    m.put("prefer_performer", pref.preferA());
    m.put("prefer_softmax", pref.preferB());
    m.put("ties", pref.ties());
    long[] credits = il.credits();
    m.put("credits_performer", credits[0]);
    m.put("credits_softmax", credits[1]);
    m.put("delta", round(pref.delta()));
    double[] share = pref.shareOfAInterval();
    m.put("performer_share_ci95", List.of(round(share[0]), round(share[1])));
    double p = pref.p();
    m.put("sign_test_p", significant(p));
    boolean significant = p < 0.05;
    m.put("significant", significant);
    String leader = pref.preferA() > pref.preferB() ? "performer"
        : pref.preferB() > pref.preferA() ? "softmax" : null;
    m.put("leader", leader);
    m.put("summary", leader == null ? "interleaving: no preference yet"
        : "interleaving: users prefer " + leader + " (" + (significant ? "significant"
            : "not significant") + ", sign test p = " + String.format(java.util.Locale.ROOT,
            "%.3g", p) + ")");
    return m;
  }

  /** The primary metric over time: each arm's value and interval, and the difference's. */
  private static List<Map<String, Object>> seriesDoc(
      java.util.NavigableMap<Long, Map<ArmChoice, ArmAggregate>> series, Settings s) {
    List<Map<String, Object>> out = new java.util.ArrayList<>();
    for (Map.Entry<Long, Map<ArmChoice, ArmAggregate>> point : series.entrySet()) {
      Map<String, Object> p = new LinkedHashMap<>();
      p.put("bucket_start", point.getKey());
      for (ArmChoice arm : ArmChoice.values()) {
        ArmAggregate x = point.getValue().get(arm);
        if (x == null) {
          continue;
        }
        UserMoments u = metric(x, PRIMARY);
        double se = Math.sqrt(u.ratioVariance());
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("users", u.users());
        v.put("exposures", x.exposures());
        v.put("resolved", (long) u.denominator());
        v.put("value", round(u.ratio()));
        v.put("ci95", Double.isNaN(se) ? null : List.of(round(u.ratio() - Comparison.Z95 * se),
            round(u.ratio() + Comparison.Z95 * se)));
        v.put("latency_ms_p99", round(x.latencyMs(99)));
        p.put(arm.wireName(), v);
      }
      ArmAggregate a = point.getValue().get(ArmChoice.PERFORMER);
      ArmAggregate b = point.getValue().get(ArmChoice.SOFTMAX);
      if (a != null && b != null && a.hits().users() >= 2 && b.hits().users() >= 2) {
        p.put("difference", compare(metric(a, PRIMARY), metric(b, PRIMARY), s));
      }
      out.add(p);
    }
    return out;
  }

  private static Map<String, Object> armReport(ArmAggregate a, Settings s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("users", a.hits().users());
    m.put("exposures", a.exposures());
    m.put("resolved", (long) a.hits().denominator());
    m.put("resolved_as_miss_at_horizon", a.resolvedAsMiss());
    for (String name : METRICS) {
      UserMoments u = metric(a, name);
      double se = Math.sqrt(u.ratioVariance());
      Map<String, Object> v = new LinkedHashMap<>();
      v.put("value", round(u.ratio()));
      v.put("ci95", Double.isNaN(se) ? null : List.of(round(u.ratio() - Comparison.Z95 * se),
          round(u.ratio() + Comparison.Z95 * se)));
      m.put(name, v);
    }
    Map<String, Object> cost = new LinkedHashMap<>();
    cost.put("latency_ms_p50", round(a.latencyMs(50)));
    cost.put("latency_ms_p99", round(a.latencyMs(99)));
    cost.put("mean_state_bytes", Math.round(a.meanStateBytes()));
    cost.put("cpu_us_per_request", round(Math.round(a.meanCpuMicros() * 10) / 10.0));
    m.put("cost", cost);
    cost.put("latency_histogram_ms", histogram(a));
    double degradedRate = a.exposures() == 0 ? 0 : a.degraded() / (double) a.exposures();
    double coldRate = a.exposures() == 0 ? 0 : a.coldStarts() / (double) a.exposures();
    long requests = a.exposures() + a.errors();
    double errorRate = requests == 0 ? 0 : a.errors() / (double) requests;
    Map<String, Object> guard = new LinkedHashMap<>();
    guard.put("latency_ms_p99", round(a.latencyMs(99)));
    guard.put("p99_ms_limit", s.maxP99Ms());
    guard.put("degraded_rate", round(degradedRate));
    guard.put("degraded_rate_limit", s.maxDegradedRate());
    guard.put("cold_start_rate", round(coldRate));
    guard.put("cold_start_rate_limit", s.maxColdStartRate());
    guard.put("errors", a.errors());
    guard.put("error_rate", round(errorRate));
    guard.put("error_rate_limit", s.maxErrorRate());
    List<String> breaches = new java.util.ArrayList<>();
    if (a.latencyMs(99) > s.maxP99Ms()) {
      breaches.add("p99 latency");
    }
    if (degradedRate > s.maxDegradedRate()) {
      breaches.add("degraded rate");
    }
    if (coldRate > s.maxColdStartRate()) {
      breaches.add("cold-start rate");
    }
    if (errorRate > s.maxErrorRate()) {
      breaches.add("error rate");
    }
    guard.put("breaches", breaches);
    guard.put("breach", !breaches.isEmpty());
    m.put("guardrails", guard);
    return m;
  }

  private static Map<String, Object> compare(UserMoments a, UserMoments b, Settings s) {
    Comparison.FixedHorizon f = Comparison.fixedHorizon(a.ratio(), a.ratioVariance(), b.ratio(),
        b.ratioVariance());
    Comparison.Sequential q = Comparison.sequential(a.ratio(), a.ratioVariance(), b.ratio(),
        b.ratioVariance(), s.tau(), 0.05);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("difference", round(f.difference()));
    Map<String, Object> fixed = new LinkedHashMap<>();
    fixed.put("test", "Welch z-test on user-level means (delta method), read once");
    fixed.put("ci95", List.of(round(f.lower()), round(f.upper())));
    fixed.put("z", round(f.z()));
    fixed.put("p_value", significant(f.p()));
    m.put("fixed_horizon", fixed);
    Map<String, Object> seq = new LinkedHashMap<>();
    seq.put("test", "normal-mixture mSPRT, tau = " + s.tau() + "; valid at every look");
    seq.put("confidence_sequence95", List.of(round(q.lower()), round(q.upper())));
    seq.put("p_value", significant(q.p()));
    m.put("sequential", seq);
    m.put("mde_at_80pct_power", round(Comparison.minimumDetectableEffect(f.standardError(),
        0.05, 0.8)));
    return m;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> verdict(Map<String, Object> comparison,
      SampleRatio.Result srm, Map<String, Object> arms) {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("primary_metric", PRIMARY);
    v.put("sample_ratio_ok", !srm.mismatch());
    boolean breach = arms.values().stream().anyMatch(a -> Boolean.TRUE.equals(
        ((Map<String, Object>) ((Map<String, Object>) a).get("guardrails")).get("breach")));
    v.put("guardrail_breach", breach);
    Object c = comparison.get(PRIMARY);
    if (!(c instanceof Map<?, ?> primary)) {
      v.put("leader", null);
      v.put("summary", "not enough users yet");
      return v;
    }
    double diff = (Double) primary.get("difference");
    Map<String, Object> fixedDoc = (Map<String, Object>) primary.get("fixed_horizon");
    Map<String, Object> seqDoc = (Map<String, Object>) primary.get("sequential");
    boolean fixed = (Double) fixedDoc.get("p_value") < 0.05;
    boolean sequential = (Double) seqDoc.get("p_value") <= 0.05;
    v.put("leader", diff > 0 ? "performer" : diff < 0 ? "softmax" : null);
    v.put("difference", diff);
    v.put("ci95_fixed_horizon", fixedDoc.get("ci95"));
    v.put("confidence_sequence95", seqDoc.get("confidence_sequence95"));
    v.put("significant_fixed_horizon", fixed);
    v.put("significant_sequential", sequential);
    String lead = (diff > 0 ? "performer" : "softmax") + " leads on " + PRIMARY + " by "
        + String.format(java.util.Locale.ROOT, "%.3g", Math.abs(diff));
    v.put("summary", srm.mismatch() ? "sample ratio mismatch: no result can be trusted"
        : sequential ? lead + " (significant, sequential test)" + (breach
            ? "; but a guardrail is breached" : "")
        : fixed ? lead + " (significant at a fixed horizon only: valid if this is the planned "
            + "single look)"
        : "no significant difference yet" + (breach ? "; a guardrail is breached" : ""));
    return v;
  }

  /** Latency counts in log-spaced bins (ms upper edges), from the arm's HdrHistogram. */
  private static Map<String, Object> histogram(ArmAggregate a) {
    double[] edges = {0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256, 1000, 60_000};
    long[] counts = new long[edges.length];
    long previous = 0;
    org.HdrHistogram.Histogram latency = a.latency();
    for (int i = 0; i < edges.length; i++) {
      long upTo = latency.getTotalCount() == 0 ? 0
          : latency.getCountBetweenValues(0, Math.round(edges[i] * 1000));
      counts[i] = upTo - previous;
      previous = upTo;
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("upper_edges_ms", java.util.Arrays.stream(edges).boxed().toList());
    m.put("counts", java.util.Arrays.stream(counts).boxed().toList());
    return m;
  }

  private static Double sumOrNull(Double a, Double b) {
    return a == null || b == null ? null : a + b;
  }

  /** p-values: four significant figures, so a tiny one stays visible (not 0). */
  static double significant(double p) {
    if (!(p > 0) || Double.isInfinite(p)) {
      return p;
    }
    return new java.math.BigDecimal(p).round(new java.math.MathContext(4)).doubleValue();
  }

  static double round(double x) {
    return Double.isNaN(x) || Double.isInfinite(x) ? x : Math.round(x * 1e6) / 1e6;
  }
}
