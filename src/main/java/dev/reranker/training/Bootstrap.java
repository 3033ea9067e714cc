package dev.reranker.training;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Bootstrap confidence intervals over users: the unit of an offline evaluation is the user (one
 * held-out item each), so intervals resample users with replacement. Percentile intervals, a fixed
 * number of resamples and a seed: the same per-user results give the same interval.
 */
public final class Bootstrap {
  private Bootstrap() {}

  /** Resamples by default: the 2.5th and 97.5th percentiles settle to ~±0.001 at 610 users. */
  public static final int RESAMPLES = 2000;

  /** A two-sided 95% interval. */
  public record Interval(double low, double high) {
    public double[] toArray() {
      return new double[] {round(low), round(high)};
    }

    private static double round(double x) {
      return Math.round(x * 1e6) / 1e6;
    }
  }

  /** The 95% percentile interval of the mean of {@code perUser}. */
  public static Interval mean(double[] perUser, int resamples, long seed) {
    return difference(perUser, null, resamples, seed);
  }

  /**
   * The 95% percentile interval of mean(a − b) over the same users (paired: each resample draws
   * users, and both models' results for them), for comparing two models on one test split.
   *
   * @param b null: the interval of mean(a)
   */
  public static Interval difference(double[] a, double[] b, int resamples, long seed) {
    if (a.length == 0) {
      throw new IllegalArgumentException("no users to resample");
    }
    if (b != null && b.length != a.length) {
      throw new IllegalArgumentException("paired results need the same users: " + a.length
          + " vs " + b.length);
    }
    if (resamples < 100) {
      throw new IllegalArgumentException("resamples must be ≥ 100, got " + resamples);
    }
    int n = a.length;
    SplittableRandom random = new SplittableRandom(seed);
    double[] means = new double[resamples];
    for (int r = 0; r < resamples; r++) {
      double sum = 0;
      for (int i = 0; i < n; i++) {
        int u = random.nextInt(n);
        sum += b == null ? a[u] : a[u] - b[u];
      }
      means[r] = sum / n;
    }
    Arrays.sort(means);
    return new Interval(percentile(means, 0.025), percentile(means, 0.975));
  }

  /** Linear interpolation between order statistics (type 7, R's default). */
  static double percentile(double[] sorted, double p) {
    double h = (sorted.length - 1) * p;
    int lo = (int) Math.floor(h);
    int hi = Math.min(sorted.length - 1, lo + 1);
    return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
  }
}
