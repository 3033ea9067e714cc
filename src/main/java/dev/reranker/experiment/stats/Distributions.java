package dev.reranker.experiment.stats;

/**
 * The distribution functions the report's tests need, in double precision, all on one primitive,
 * the regularised upper incomplete gamma function Q(a, x) (a series or a continued fraction): the
 * standard normal CDF through erfc(x) = Q(½, x²), its inverse (Acklam's rational approximation
 * refined by one Halley step, |error| &lt; 1e-9), and the χ² survival function Q(k/2, x/2).
 */
public final class Distributions {
  private Distributions() {}

  /** Φ(z). */
  public static double normalCdf(double z) {
    return 0.5 * erfc(-z / Math.sqrt(2));
  }

  /** 1 − Φ(z), accurate in the upper tail. */
  public static double normalSurvival(double z) {
    return 0.5 * erfc(z / Math.sqrt(2));
  }

  /** The two-sided p-value of a z statistic. */
  public static double twoSidedP(double z) {
    return Math.min(1, 2 * normalSurvival(Math.abs(z)));
  }

  /** erfc(x) = Q(½, x²) for x ≥ 0 (the incomplete gamma function below), 2 − erfc(−x) else. */
  static double erfc(double x) {
    return x < 0 ? 2 - erfc(-x) : upperGammaRegularized(0.5, x * x);
  }

  /** Φ⁻¹(p) for 0 &lt; p &lt; 1. */
  public static double normalQuantile(double p) {
    if (!(p > 0 && p < 1)) {
      throw new IllegalArgumentException("p must be in (0, 1), got " + p);
    }
    double[] a = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
        1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
    double[] b = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
        6.680131188771972e+01, -1.328068155288572e+01};
    double[] c = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
        -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
    double[] d = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
        3.754408661907416e+00};
    double x;
    if (p < 0.02425) {
      double q = Math.sqrt(-2 * Math.log(p));
      x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
          / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p <= 1 - 0.02425) {
      double q = p - 0.5;
      double r = q * q;
      x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
          / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    } else {
      double q = Math.sqrt(-2 * Math.log(1 - p));
      x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
          / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    // one Halley step against the CDF
    double e = normalCdf(x) - p;
    double u = e * Math.sqrt(2 * Math.PI) * Math.exp(x * x / 2);
    return x - u / (1 + x * u / 2);
  }

  /** P(X ≥ x) for X ~ χ² with {@code df} degrees of freedom. */
  public static double chiSquaredSurvival(double x, int df) {
    if (df < 1) {
      throw new IllegalArgumentException("df must be ≥ 1, got " + df);
    }
    if (x <= 0) {
      return 1;
    }
    return upperGammaRegularized(df / 2.0, x / 2);
  }

  /** Q(a, x) = Γ(a, x) / Γ(a). */
  static double upperGammaRegularized(double a, double x) {
    if (x == 0) {
      return 1;
    }
    if (x < a + 1) { // series for P, then 1 − P
      double sum = 1 / a;
      double term = sum;
      for (int n = 1; n < 10_000; n++) {
        term *= x / (a + n);
        sum += term;
        if (Math.abs(term) < Math.abs(sum) * 1e-15) {
          break;
        }
      }
      double p = sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
      return Math.max(0, 1 - p);
    }
    // Lentz's continued fraction for Q
    double tiny = 1e-300;
    double b = x + 1 - a;
    double c = 1 / tiny;
    double d = 1 / b;
    double h = d;
    for (int i = 1; i < 10_000; i++) {
      double an = -i * (i - a);
      b += 2;
      d = an * d + b;
      d = Math.abs(d) < tiny ? tiny : d;
      c = b + an / c;
      c = Math.abs(c) < tiny ? tiny : c;
      d = 1 / d;
      double delta = d * c;
      h *= delta;
      if (Math.abs(delta - 1) < 1e-15) {
        break;
      }
    }
    return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
  }

  /** ln Γ(a), Lanczos (g = 7, n = 9), |error| &lt; 1e-13 for a &gt; 0. */
  static double logGamma(double a) {
    double[] g = {0.99999999999980993, 676.5203681218851, -1259.1392167224028,
        771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
        9.9843695780195716e-6, 1.5056327351493116e-7};
    if (a < 0.5) {
      return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * a))) - logGamma(1 - a);
    }
    double x = g[0];
    double t = a + 6.5;
    for (int i = 1; i < 9; i++) {
      x += g[i] / (a - 1 + i);
    }
    return 0.5 * Math.log(2 * Math.PI) + (a - 0.5) * Math.log(t) - t + Math.log(x);
  }
}
