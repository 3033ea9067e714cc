package dev.reranker.attention;

/**
 * Slow, obviously correct double-precision references for the fast kernels: plain loops over
 * (length, dim) arrays, quadratic in the length, no ND4J, no chunking, no incremental state. Tests
 * hold the batched ND4J kernels and the step kernels against these.
 */
final class ReferenceAttention {
  private ReferenceAttention() {}

  /** Exact softmax attention, out_i = Σ_j softmax_j(q_iᵀk_j/√d) v_j over j ≤ i (causal) or all j. */
  public static double[][] softmax(double[][] q, double[][] k, double[][] v, boolean causal) {
    int length = q.length;
    double scale = 1 / Math.sqrt(q[0].length);
    double[][] out = new double[length][v[0].length];
    for (int i = 0; i < length; i++) {
      int last = causal ? i : length - 1;
      double max = Double.NEGATIVE_INFINITY;
      double[] logits = new double[last + 1];
      for (int j = 0; j <= last; j++) {
        logits[j] = dot(q[i], k[j]) * scale;
        max = Math.max(max, logits[j]);
      }
      double sum = 0;
      for (int j = 0; j <= last; j++) {
        logits[j] = Math.exp(logits[j] - max);
        sum += logits[j];
      }
      for (int j = 0; j <= last; j++) {
        for (int t = 0; t < v[0].length; t++) {
          out[i][t] += logits[j] / sum * v[j][t];
        }
      }
    }
    return out;
  }

  /**
   * Linear attention over given features, the quadratic masked form:
   * out_i = Σ_j (q'_iᵀk'_j) v_j / (Σ_j q'_iᵀk'_j + δ) over j ≤ i (causal) or all j.
   */
  public static double[][] linear(double[][] qf, double[][] kf, double[][] v, boolean causal) {
    int length = qf.length;
    double[][] out = new double[length][v[0].length];
    for (int i = 0; i < length; i++) {
      int last = causal ? i : length - 1;
      double den = 0;
      for (int j = 0; j <= last; j++) {
        double a = dot(qf[i], kf[j]);
        den += a;
        for (int t = 0; t < v[0].length; t++) {
          out[i][t] += a * v[j][t];
        }
      }
      for (int t = 0; t < v[0].length; t++) {
        out[i][t] /= den + CausalLinearAttention.DENOMINATOR_EPSILON;
      }
    }
    return out;
  }

  /**
   * FAVOR+ softmax-kernel features in double, straight from the formula:
   * φ(x)_i = m^(-1/2)·(exp(w_iᵀx̃ − ‖x̃‖²/2 − c) + ε'), x̃ = d^(-1/4)·x, with c the row max for
   * queries and c_k for keys, ε' = ε for queries and ε·e^(−c_k) for keys.
   */
  public static double[][] softmaxFeatures(FavorProjection w, double[][] x, FeatureMap.Role role,
      double epsilon, double keyShift) {
    int m = w.features();
    int d = w.dim();
    double[][] out = new double[x.length][m];
    for (int r = 0; r < x.length; r++) {
      double[] xs = scaled(x[r], d);
      double half = dot(xs, xs) / 2;
      double[] u = new double[m];
      double c = role == FeatureMap.Role.KEY ? keyShift : Double.NEGATIVE_INFINITY;
      for (int i = 0; i < m; i++) {
        u[i] = rowDot(w, i, xs) - half;
        if (role == FeatureMap.Role.QUERY) {
          c = Math.max(c, u[i]);
        }
      }
      double eps = role == FeatureMap.Role.KEY ? epsilon * Math.exp(-keyShift) : epsilon;
      for (int i = 0; i < m; i++) {
        out[r][i] = (Math.exp(u[i] - c) + eps) / Math.sqrt(m);
      }
    }
    return out;
  }

  /** ReLU-kernel features in double: φ(x)_i = m^(-1/2)·(max(0, w_iᵀx̃) + ε). */
  public static double[][] reluFeatures(FavorProjection w, double[][] x, double epsilon) {
    int m = w.features();
    double[][] out = new double[x.length][m];
    for (int r = 0; r < x.length; r++) {
      double[] xs = scaled(x[r], w.dim());
      for (int i = 0; i < m; i++) {
        out[r][i] = (Math.max(0, rowDot(w, i, xs)) + epsilon) / Math.sqrt(m);
      }
    }
    return out;
  }

  /** The softmax kernel itself, exp(qᵀk/√d), that {@link #softmaxFeatures} estimates. */
  public static double softmaxKernel(double[] q, double[] k) {
    return Math.exp(dot(q, k) / Math.sqrt(q.length));
  }

  private static double[] scaled(double[] x, int d) {
    double s = Math.pow(d, -0.25);
    double[] xs = new double[d];
    for (int j = 0; j < d; j++) {
      xs[j] = x[j] * s;
    }
    return xs;
  }

  private static double rowDot(FavorProjection w, int row, double[] x) {
    double s = 0;
    for (int j = 0; j < x.length; j++) {
      s += w.weight(row, j) * x[j];
    }
    return s;
  }

  static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }
}
