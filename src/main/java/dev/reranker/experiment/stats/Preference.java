package dev.reranker.experiment.stats;

/**
 * An interleaving experiment's verdict at the level of users (who are what is randomised): each
 * user whose interactions credited arm A more often than B prefers A, and the other way round;
 * users with equal credit (or none) are ties. The sign test asks whether A-preferring users are
 * more or fewer than half of the users with a preference (exact binomial below 10,000 users with a
 * preference, the normal approximation above), and Δ = (users preferring A − users preferring B)
 * / (all users) is the preference's size (Chapelle et al. 2012), with a Wilson interval on the
 * share of A among users with a preference.
 *
 * @param preferA users whose credit favours A
 * @param preferB users whose credit favours B
 * @param ties users with equal credit (or none)
 */
public record Preference(long preferA, long preferB, long ties) {

  public Preference {
    if (preferA < 0 || preferB < 0 || ties < 0) {
      throw new IllegalArgumentException("negative counts");
    }
  }

  /** One user's credit: how many of their interactions went to each team's items. */
  public static int sign(long creditsA, long creditsB) {
    return Long.compare(creditsA, creditsB);
  }

  public Preference plus(int userSign) {
    return userSign > 0 ? new Preference(preferA + 1, preferB, ties)
        : userSign < 0 ? new Preference(preferA, preferB + 1, ties)
        : new Preference(preferA, preferB, ties + 1);
  }

  public long users() {
    return preferA + preferB + ties;
  }

  /** Δ_AB in [−1, 1]; 0 without users. */
  public double delta() {
    long n = users();
    return n == 0 ? 0 : (preferA - preferB) / (double) n;
  }

  /** The two-sided sign-test p-value of H₀: a user with a preference prefers A with p = ½. */
  public double p() {
    long n = preferA + preferB;
    if (n == 0) {
      return 1;
    }
    long lo = Math.min(preferA, preferB);
    if (n > 10_000) {
      double z = (Math.abs(preferA - preferB) - 1) / Math.sqrt(n); // continuity-corrected
      return Distributions.twoSidedP(Math.max(0, z));
    }
    // 2 · P(X ≤ lo), X ~ Binomial(n, ½), summed in log space
    double logHalfN = n * Math.log(0.5);
    double sum = 0;
    for (long i = 0; i <= lo; i++) {
      sum += Math.exp(logChoose(n, i) + logHalfN);
    }
    return Math.min(1, 2 * sum);
  }

  /** Wilson 95% interval of the share of users preferring A among those with a preference. */
  public double[] shareOfAInterval() {
    long n = preferA + preferB;
    if (n == 0) {
      return new double[] {0, 1};
    }
    double z = Comparison.Z95;
    double p = preferA / (double) n;
    double z2 = z * z;
    double center = (p + z2 / (2 * n)) / (1 + z2 / n);
    double half = z * Math.sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / (1 + z2 / n);
    return new double[] {Math.max(0, center - half), Math.min(1, center + half)};
  }

  private static double logChoose(long n, long k) {
    return Distributions.logGamma(n + 1) - Distributions.logGamma(k + 1)
        - Distributions.logGamma(n - k + 1);
  }
}
