package dev.reranker.experiment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.reranker.experiment.stats.Comparison;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The report from aggregates: its numbers are the statistics' own, its flags fire when due. */
class AggregateReportTest {

  final Experiment experiment = Experiment.standard("exp");

  static ArmAggregate arm(SplittableRandom r, int users, double rate, double latencyMs,
      boolean degraded) {
    ArmAggregate a = new ArmAggregate();
    for (int u = 0; u < users; u++) {
      int n = 1 + r.nextInt(8);
      double p = Math.min(1, rate * 2 * r.nextDouble());
      int hits = 0;
      for (int i = 0; i < n; i++) {
        hits += r.nextDouble() < p ? 1 : 0;
        a.exposed(new Exposure("r", "exp", "u" + u, ArmChoice.PERFORMER, "v", List.of("x"), 0,
            latencyMs, 1000, degraded && i == 0, 10, false, null, 0, false));
      }
      a.hits.addUser(hits, n);
      a.ndcg.addUser(hits * 0.6, n);
      a.reciprocalRank.addUser(hits * 0.5, n);
    }
    return a;
  }

  @Test
  @SuppressWarnings("unchecked")
  void theNumbersAreTheUserLevelStatisticsAndTheVerdictFollowsThem() {
    SplittableRandom r = new SplittableRandom(9);
    ArmAggregate performer = arm(r, 3000, 0.30, 2, false);
    ArmAggregate softmax = arm(r, 3000, 0.22, 3, false);
    Map<String, Object> doc = AggregateReport.build(experiment, Map.of(ArmChoice.PERFORMER,
        performer, ArmChoice.SOFTMAX, softmax), AggregateReport.Settings.defaults());

    Map<String, Object> p = (Map<String, Object>) ((Map<String, Object>) doc.get("arms"))
        .get("performer");
    assertThat(p.get("users")).isEqualTo(3000L);
    assertThat((Double) ((Map<String, Object>) p.get("hr_at_k")).get("value"))
        .isCloseTo(performer.hits().ratio(), within(1e-6));
    Map<String, Object> cmp = (Map<String, Object>) ((Map<String, Object>) doc.get("comparison"))
        .get("hr_at_k");
    Comparison.FixedHorizon f = Comparison.fixedHorizon(performer.hits().ratio(),
        performer.hits().ratioVariance(), softmax.hits().ratio(),
        softmax.hits().ratioVariance());
    assertThat((Double) cmp.get("difference")).isCloseTo(f.difference(), within(1e-6));
    assertThat((Double) ((Map<String, Object>) cmp.get("fixed_horizon")).get("p_value"))
        .isCloseTo(f.p(), within(1e-6));
    List<Double> cs = (List<Double>) ((Map<String, Object>) cmp.get("sequential"))
        .get("confidence_sequence95");
    // the confidence sequence is wider than the fixed-horizon interval: the price of peeking
    assertThat(cs.get(1) - cs.get(0)).isGreaterThan(f.upper() - f.lower());
    Map<String, Object> srm = (Map<String, Object>) doc.get("sample_ratio");
    assertThat(srm.get("mismatch")).isEqualTo(false);
    Map<String, Object> verdict = (Map<String, Object>) doc.get("verdict");
    assertThat(verdict.get("leader")).isEqualTo("performer");
    assertThat(verdict.get("significant_sequential")).isEqualTo(true);
    assertThat(verdict.get("guardrail_breach")).isEqualTo(false);
    // power: the MDE from the difference's standard error; the traffic came all at once (served
    // time 0), so there is no daily rate to project days from
    Map<String, Object> power = (Map<String, Object>) doc.get("power");
    Comparison.FixedHorizon ndcg = Comparison.fixedHorizon(performer.ndcg().ratio(),
        performer.ndcg().ratioVariance(), softmax.ndcg().ratio(),
        softmax.ndcg().ratioVariance());
    assertThat((Double) power.get("mde_at_80pct_power")).isCloseTo(
        Comparison.minimumDetectableEffect(ndcg.standardError(), 0.05, 0.8), within(1e-6));
    assertThat(power.get("users_so_far")).isEqualTo(6000L);
    assertThat(power.get("users_per_day")).isNull();
    assertThat(power.get("days_left_at_least")).isNull();
    Map<String, Object> cost = (Map<String, Object>) p.get("cost");
    assertThat((Double) cost.get("latency_ms_p50")).isCloseTo(2.0, within(0.03));
    assertThat(cost.get("mean_state_bytes")).isEqualTo(1000L);
  }

  @Test
  @SuppressWarnings("unchecked")
  void aSampleRatioMismatchAndAGuardrailBreachAreFlagged() {
    SplittableRandom r = new SplittableRandom(10);
    Map<String, Object> doc = AggregateReport.build(experiment, Map.of(ArmChoice.PERFORMER,
        arm(r, 1100, 0.3, 2, false), ArmChoice.SOFTMAX, arm(r, 900, 0.3, 80, true)),
        AggregateReport.Settings.defaults());
    Map<String, Object> srm = (Map<String, Object>) doc.get("sample_ratio");
    assertThat(srm.get("mismatch")).isEqualTo(true); // 1,100 vs 900 at 50/50: p ≈ 7.7e-6
    assertThat((Double) srm.get("p_value")).isLessThan(1e-4);
    Map<String, Object> verdict = (Map<String, Object>) doc.get("verdict");
    assertThat(verdict.get("sample_ratio_ok")).isEqualTo(false);
    assertThat((String) verdict.get("summary")).startsWith("sample ratio mismatch");
    assertThat(verdict.get("guardrail_breach")).isEqualTo(true);
    Map<String, Object> softmax = (Map<String, Object>) ((Map<String, Object>) doc.get("arms"))
        .get("softmax");
    assertThat(((Map<String, Object>) softmax.get("guardrails")).get("breach")).isEqualTo(true);
  }

  @Test
  @SuppressWarnings("unchecked")
  void failedRequestsCountAgainstTheArmsErrorRateNotItsQuality() {
    SplittableRandom r = new SplittableRandom(13);
    ArmAggregate performer = arm(r, 1000, 0.3, 2, false);
    ArmAggregate softmax = arm(r, 1000, 0.3, 2, false);
    double hits = softmax.hits().ratio();
    long exposures = softmax.exposures();
    for (int i = 0; i < 30; i++) { // ≈ 0.3 % of its requests: above the 0.1 % limit
      softmax.exposed(Exposure.failed("f" + i, "exp", "u" + i, ArmChoice.SOFTMAX, 0, 1, 10));
    }
    Map<String, Object> doc = AggregateReport.build(experiment, Map.of(ArmChoice.PERFORMER,
        performer, ArmChoice.SOFTMAX, softmax), AggregateReport.Settings.defaults());
    Map<String, Object> arms = (Map<String, Object>) doc.get("arms");
    Map<String, Object> guard = (Map<String, Object>) ((Map<String, Object>) arms.get("softmax"))
        .get("guardrails");
    assertThat(guard.get("errors")).isEqualTo(30L);
    assertThat((Double) guard.get("error_rate")).isCloseTo(30.0 / (exposures + 30), within(1e-6));
    assertThat((List<String>) guard.get("breaches")).containsExactly("error rate");
    assertThat(((Map<String, Object>) ((Map<String, Object>) arms.get("performer"))
        .get("guardrails")).get("breach")).isEqualTo(false);
    // not exposures, not outcomes
    assertThat(softmax.exposures()).isEqualTo(exposures);
    assertThat(softmax.hits().ratio()).isEqualTo(hits);
  }

  @Test
  void aggregatesSurviveTheirBinaryFormAndMergeAsTheirUsersWould() {
    SplittableRandom r = new SplittableRandom(12);
    ArmAggregate x = arm(r, 50, 0.3, 2, false);
    ArmAggregate y = arm(r, 70, 0.3, 5, true);
    ArmAggregate back = ArmAggregate.fromBytes(x.toBytes());
    assertThat(back.toBytes()).as("every field survives the round trip").isEqualTo(x.toBytes());
    assertThat(back.hits().ratioVariance()).isEqualTo(x.hits().ratioVariance());
    assertThat(back.exposures()).isEqualTo(x.exposures());
    assertThat(back.latencyMs(99)).isEqualTo(x.latencyMs(99));
    ArmAggregate merged = x.merge(y);
    assertThat(merged.hits().users()).isEqualTo(120);
    assertThat(merged.exposures()).isEqualTo(x.exposures() + y.exposures());
    assertThat(merged.degraded()).isEqualTo(70);
    assertThat(merged.latencyMs(100)).isCloseTo(5.0, within(0.05));
  }
}
