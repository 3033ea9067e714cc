package dev.reranker.experiment.stats;

/**
 * The difference of two arms' user-level metrics (a − b), tested two ways.
 *
 * <ul>
 *   <li><b>Fixed horizon</b>: z = Δ / se, its two-sided p-value and 95% interval — valid when it
 *   is read once, at a sample size fixed in advance. Reading it every day and stopping at the
 *   first p &lt; 0.05 inflates false positives well past 5%.</li>
 *   <li><b>Always valid</b>: the normal-mixture sequential test (mSPRT, Robbins 1970; Johari,
 *   Pekelis &amp; Walsh 2017) and its confidence sequence. With Δ̂ ~ N(Δ, v) and a N(0, τ²) mixing
 *   prior on Δ, the likelihood ratio against Δ = 0 is
 *   <pre>  Λ = √(v / (v + τ²)) · exp(τ² Δ̂² / (2 v (v + τ²)))</pre>
 *   and p = min(1, 1/Λ) may be read after every batch: under no difference P(ever p ≤ α) ≤ α.
 *   Inverting Λ ≤ 1/α around any Δ gives the confidence sequence
 *   <pre>  Δ̂ ± √( v (v + τ²)/τ² · (2 ln(1/α) + ln((v + τ²)/v)) )</pre>
 *   which covers Δ at all times at once with probability ≥ 1 − α (asymptotically, as v is
 *   estimated: Howard et al. 2021; Waudby-Smith et al. 2023). The running p-value reported is
 *   the smallest seen so far (an always-valid p-value is made monotone that way).</li>
 * </ul>
 * τ is the effect size the test is tuned to find quickest; any τ &gt; 0 keeps it valid.
 */
public final class Comparison {
  private Comparison() {}

  /** z for a 95% two-sided interval. */
  public static final double Z95 = 1.959963984540054;

  /**
   * @param difference Δ̂ = a − b
   * @param standardError √v
   */
  public record FixedHorizon(double difference, double standardError, double z, double p,
      double lower, double upper) {}

  public record Sequential(double difference, double p, double lower, double upper) {}

  public static FixedHorizon fixedHorizon(double a, double varA, double b, double varB) {
    double diff = a - b;
    double se = Math.sqrt(varA + varB);
    double z = se == 0 ? 0 : diff / se;
    return new FixedHorizon(diff, se, z, se == 0 ? 1 : Distributions.twoSidedP(z),
        diff - Z95 * se, diff + Z95 * se);
  }

  /**
   * @param tau the mixing scale τ (in the metric's units)
   * @param alpha for the confidence sequence
   */
  public static Sequential sequential(double a, double varA, double b, double varB, double tau,
      double alpha) {
    if (!(tau > 0) || !(alpha > 0 && alpha < 1)) {
      throw new IllegalArgumentException("tau must be > 0 and alpha in (0, 1)");
    }
    double diff = a - b;
    double v = varA + varB;
    if (!(v > 0)) {
      return new Sequential(diff, 1, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY);
    }
    double t2 = tau * tau;
    double logLambda = 0.5 * Math.log(v / (v + t2)) + t2 * diff * diff / (2 * v * (v + t2));
    double p = Math.min(1, Math.exp(-logLambda));
    double half = Math.sqrt(v * (v + t2) / t2 * (2 * Math.log(1 / alpha)
        + Math.log((v + t2) / v)));
    return new Sequential(diff, p, diff - half, diff + half);
  }

  /**
   * The minimum detectable effect at this standard error: the |Δ| a two-sided level-α test finds
   * with the given power, (z₁₋α/₂ + z_power) · se.
   */
  public static double minimumDetectableEffect(double standardError, double alpha,
      double power) {
    return (Distributions.normalQuantile(1 - alpha / 2) + Distributions.normalQuantile(power))
        * standardError;
  }

  /**
   * How many more users (in total over both arms, at the current split) it takes to reach
   * {@code targetEffect} as the MDE: se shrinks as 1/√users.
   */
  public static double usersToDetect(double standardError, long usersNow, double alpha,
      double power, double targetEffect) {
    double mde = minimumDetectableEffect(standardError, alpha, power);
    double needed = usersNow * (mde / targetEffect) * (mde / targetEffect);
    return Math.max(0, needed - usersNow);
  }
}
