package dev.reranker.experiment.stats;

import java.util.Map;

/**
 * Sample ratio mismatch: are the users per arm what the configured weights say? Pearson's χ² of
 * the observed users per arm against n · w_a / Σw (arms with weight 0 must have none), k − 1
 * degrees of freedom. A mismatch means the assignment or the logging is broken and no other
 * number of the experiment can be trusted; the conventional alarm is p &lt; 0.001 (Fabijan et al.,
 * KDD 2019).
 */
public final class SampleRatio {
  private SampleRatio() {}

  /** Below this p-value the report raises the alarm. */
  public static final double ALARM_P = 0.001;

  /**
   * @param chiSquared the statistic
   * @param p its p-value (1 when there is nothing to test)
   * @param mismatch p &lt; {@link #ALARM_P}, or users in an arm the weights give none
   */
  public record Result(double chiSquared, int degreesOfFreedom, double p, boolean mismatch) {}

  public static <A> Result test(Map<A, Long> users, Map<A, Double> weights) {
    double total = weights.values().stream().mapToDouble(Double::doubleValue).sum();
    long n = users.values().stream().mapToLong(Long::longValue).sum();
    boolean stray = users.entrySet().stream().anyMatch(e -> e.getValue() > 0
        && weights.getOrDefault(e.getKey(), 0.0) <= 0);
    long arms = weights.values().stream().filter(w -> w > 0).count();
    if (n == 0 || total <= 0 || arms < 2) {
      return new Result(0, 0, 1, stray);
    }
    double chi = 0;
    for (Map.Entry<A, Double> e : weights.entrySet()) {
      if (e.getValue() <= 0) {
        continue;
      }
      double expected = n * e.getValue() / total;
      double observed = users.getOrDefault(e.getKey(), 0L);
      chi += (observed - expected) * (observed - expected) / expected;
    }
    int df = (int) arms - 1;
    double p = Distributions.chiSquaredSurvival(chi, df);
    return new Result(chi, df, p, stray || p < ALARM_P);
  }
}
