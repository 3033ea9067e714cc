package dev.reranker.experiment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.reranker.attention.GaussianSampler;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The report's Welch test: its numbers on a case worked by hand, and its calibration — under no
 * difference its p-values fall below 0.05 about 5% of the time, and a real difference is found.
 */
class WelchTestTest {

  @Test
  void matchesAWorkedExample() {
    // x: mean 3, sample variance 2.5, n 5; y: mean 4, variance 4, n 3
    // se = √(2.5/5 + 4/3) = 1.354006; z = −1/se = −0.738549; p = 2(1 − Φ(0.738549)) = 0.460181
    Map<String, Object> w = ExperimentReport.welch(new double[] {1, 2, 3, 4, 5},
        new double[] {2, 4, 6});
    assertThat((Double) w.get("difference")).isEqualTo(-1.0);
    assertThat((Double) w.get("z")).isCloseTo(-0.738549, within(2e-6));
    assertThat((Double) w.get("p_value")).isCloseTo(0.460181, within(1e-5));
    @SuppressWarnings("unchecked")
    List<Double> ci = (List<Double>) w.get("ci95");
    assertThat(ci.get(0)).isCloseTo(-3.653804, within(2e-6));
    assertThat(ci.get(1)).isCloseTo(1.653804, within(2e-6));
  }

  @Test
  void theTwoProportionIntervalUsesTheUnpooledError() {
    // 60/100 vs 45/100: z (pooled) 2.123977, p 0.033672; CI 0.15 ± 1.96·0.069821
    Map<String, Object> t = ExperimentReport.twoProportion(60, 100, 45, 100);
    assertThat((Double) t.get("z")).isCloseTo(2.123977, within(2e-6));
    assertThat((Double) t.get("p_value")).isCloseTo(0.033672, within(1e-5));
    @SuppressWarnings("unchecked")
    List<Double> ci = (List<Double>) t.get("ci95");
    assertThat(ci.get(0)).isCloseTo(0.013153, within(2e-6));
    assertThat(ci.get(1)).isCloseTo(0.286847, within(2e-6));
    double[] wilson = ExperimentReport.wilson(8, 10);
    assertThat(wilson[0]).isCloseTo(0.490162, within(1e-6));
    assertThat(wilson[1]).isCloseTo(0.943318, within(1e-6));
  }

  @Test
  void isCalibratedUnderNoDifferenceAndFindsARealOne() {
    GaussianSampler g = new GaussianSampler(20_261_201L);
    int trials = 2000;
    int falsePositives = 0;
    int found = 0;
    for (int t = 0; t < trials; t++) {
      double[] a = sample(g, 200, 0, 1);
      double[] b = sample(g, 150, 0, 3); // unequal variances and sizes: what Welch is for
      if ((Double) ExperimentReport.welch(a, b).get("p_value") < 0.05) {
        falsePositives++;
      }
      double[] shifted = sample(g, 150, 0.8, 3);
      if ((Double) ExperimentReport.welch(a, shifted).get("p_value") < 0.05) {
        found++;
      }
    }
    // 5% ± 3 binomial standard errors (0.49% each)
    assertThat(falsePositives / (double) trials).isBetween(0.035, 0.065);
    // power for a 0.8 shift at se ≈ 0.25: ≈ 0.89
    assertThat(found / (double) trials).isGreaterThan(0.8);
  }

  private static double[] sample(GaussianSampler g, int n, double mean, double sd) {
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = mean + sd * g.next();
    }
    return x;
  }
}
