package dev.reranker.experiment;

import dev.reranker.experiment.stats.Comparison;
import dev.reranker.experiment.stats.SampleRatio;
import dev.reranker.experiment.stats.UserMoments;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

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
   */
  public record Settings(double tau, double maxP99Ms, double maxDegradedRate) {
    public static Settings defaults() {
      return new Settings(0.02, 50, 0.01);
    }
  }

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
      perArm.put(arm.wireName(), armReport(a, s));
    }
    doc.put("arms", perArm);

    SampleRatio.Result srm = SampleRatio.test(users, e.weights());
    Map<String, Object> srmDoc = new LinkedHashMap<>();
    srmDoc.put("chi_squared", round(srm.chiSquared()));
    srmDoc.put("df", srm.degreesOfFreedom());
    srmDoc.put("p_value", round(srm.p()));
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
    doc.put("verdict", verdict(comparison, srm, perArm));
    return doc;
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
    m.put("cost", cost);
    double degradedRate = a.exposures() == 0 ? 0 : a.degraded() / (double) a.exposures();
    Map<String, Object> guard = new LinkedHashMap<>();
    guard.put("degraded_rate", round(degradedRate));
    guard.put("p99_ms_limit", s.maxP99Ms());
    guard.put("degraded_rate_limit", s.maxDegradedRate());
    guard.put("breach", a.latencyMs(99) > s.maxP99Ms() || degradedRate > s.maxDegradedRate());
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
    fixed.put("p_value", round(f.p()));
    m.put("fixed_horizon", fixed);
    Map<String, Object> seq = new LinkedHashMap<>();
    seq.put("test", "normal-mixture mSPRT, tau = " + s.tau() + "; valid at every look");
    seq.put("confidence_sequence95", List.of(round(q.lower()), round(q.upper())));
    seq.put("p_value", round(q.p()));
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
    Function<String, Double> p = k -> (Double) ((Map<String, Object>) primary.get(k))
        .get("p_value");
    boolean fixed = p.apply("fixed_horizon") < 0.05;
    boolean sequential = p.apply("sequential") <= 0.05;
    v.put("leader", diff > 0 ? "performer" : diff < 0 ? "softmax" : null);
    v.put("difference", diff);
    v.put("significant_fixed_horizon", fixed);
    v.put("significant_sequential", sequential);
    v.put("summary", srm.mismatch() ? "sample ratio mismatch: no result can be trusted"
        : sequential ? (diff > 0 ? "performer" : "softmax") + " leads (sequential test)"
        : "no significant difference yet");
    return v;
  }

  static double round(double x) {
    return Double.isNaN(x) || Double.isInfinite(x) ? x : Math.round(x * 1e6) / 1e6;
  }
}
