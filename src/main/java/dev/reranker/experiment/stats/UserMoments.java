package dev.reranker.experiment.stats;

/**
 * Sufficient statistics of a user-level ratio metric for one arm: over the users u of the arm,
 * with Y_u the metric's numerator summed over u's exposures (hits, NDCG, reciprocal ranks) and N_u
 * its denominator (u's resolved exposures), the sums n, ΣY, ΣN, ΣY², ΣN², ΣYN. Constant size,
 * mergeable by addition (across partitions, instances and time buckets), and kept up to date from
 * a stream of outcomes by deltas: when a user's totals go from (Y, N) to (Y + y, N + m), ΣY² grows
 * by 2Yy + y², ΣYN by Ym + Ny + ym (see {@link #add}); the user's own (Y, N) lives with the user.
 *
 * <h2>Estimator</h2>
 * Users, not requests, are randomised, so the unit of analysis is the user. The metric is the
 * ratio R = ΣY / ΣN (the mean over all exposures, each user weighing by its exposures); its
 * variance by the delta method (Deng, Knoblich &amp; Lu, KDD 2018):
 * <pre>
 *   Var(R) ≈ (s²_Y − 2 R s_YN + R² s²_N) / (n · N̄²)
 * </pre>
 * with s² the sample (co)variances over users and N̄ = ΣN / n. Treating exposures as independent
 * instead (the request-level variance R(1 − R) / ΣN for a proportion) understates it whenever a
 * user's exposures are correlated, which they are. Both are here, so the report can show the
 * difference; {@link #ratioVariance()} is the one to decide with.
 */
public final class UserMoments {

  private long users;
  private double sumY;
  private double sumN;
  private double sumYY;
  private double sumNN;
  private double sumYN;

  public UserMoments() {}

  private UserMoments(long users, double sumY, double sumN, double sumYY, double sumNN,
      double sumYN) {
    this.users = users;
    this.sumY = sumY;
    this.sumN = sumN;
    this.sumYY = sumYY;
    this.sumNN = sumNN;
    this.sumYN = sumYN;
  }

  /** From stored sums (e.g. a state store's record). */
  public static UserMoments of(long users, double sumY, double sumN, double sumYY, double sumNN,
      double sumYN) {
    if (users < 0 || sumN < 0) {
      throw new IllegalArgumentException("negative users or denominators");
    }
    return new UserMoments(users, sumY, sumN, sumYY, sumNN, sumYN);
  }

  /**
   * One user's totals move from ({@code y0}, {@code n0}) to ({@code y0 + y}, {@code n0 + m}): a
   * user seen for the first time has {@code n0 == 0}.
   */
  public void add(double y0, double n0, double y, double m) {
    if (n0 < 0 || m < 0) {
      throw new IllegalArgumentException("denominators cannot be negative");
    }
    if (n0 == 0 && m > 0) {
      users++;
    }
    sumY += y;
    sumN += m;
    sumYY += 2 * y0 * y + y * y;
    sumNN += 2 * n0 * m + m * m;
    sumYN += y0 * m + n0 * y + y * m;
  }

  /** A whole user at once: totals (y, n). */
  public void addUser(double y, double n) {
    add(0, 0, y, n);
  }

  /** This plus {@code other} (users are disjoint: an arm's users live in one partition each). */
  public UserMoments merge(UserMoments other) {
    return new UserMoments(users + other.users, sumY + other.sumY, sumN + other.sumN,
        sumYY + other.sumYY, sumNN + other.sumNN, sumYN + other.sumYN);
  }

  public long users() {
    return users;
  }

  /** ΣN: the exposures behind the metric. */
  public double denominator() {
    return sumN;
  }

  public double numerator() {
    return sumY;
  }

  public double sumYY() {
    return sumYY;
  }

  public double sumNN() {
    return sumNN;
  }

  public double sumYN() {
    return sumYN;
  }

  /** R = ΣY / ΣN; NaN without exposures. */
  public double ratio() {
    return sumN == 0 ? Double.NaN : sumY / sumN;
  }

  /**
   * The delta-method variance of {@link #ratio()} over users; NaN with fewer than two users. The
   * sample (co)variances divide by n − 1.
   */
  public double ratioVariance() {
    if (users < 2 || sumN == 0) {
      return Double.NaN;
    }
    double n = users;
    double meanY = sumY / n;
    double meanN = sumN / n;
    double varY = (sumYY - n * meanY * meanY) / (n - 1);
    double varN = (sumNN - n * meanN * meanN) / (n - 1);
    double cov = (sumYN - n * meanY * meanN) / (n - 1);
    double r = sumY / sumN;
    double v = (varY - 2 * r * cov + r * r * varN) / (n * meanN * meanN);
    return Math.max(0, v); // rounding can take an exact 0 below it
  }

  /**
   * The variance {@link #ratio()} would have if every exposure were independent (the per-exposure
   * sample variance over ΣN): what a request-level analysis uses. Needs the per-exposure sum of
   * squares, which for a 0/1 metric is ΣY itself; pass it.
   *
   * @param sumOfSquaresPerExposure Σ over exposures of the metric's square
   */
  public double requestLevelVariance(double sumOfSquaresPerExposure) {
    if (sumN < 2) {
      return Double.NaN;
    }
    double mean = sumY / sumN;
    double var = (sumOfSquaresPerExposure - sumN * mean * mean) / (sumN - 1);
    return Math.max(0, var) / sumN;
  }
}
