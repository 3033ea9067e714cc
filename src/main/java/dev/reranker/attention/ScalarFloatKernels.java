package dev.reranker.attention;

/**
 * The reference {@link FloatKernels}: plain loops in the order the math is written, {@code exp} in
 * double. Stateless and shared. The JIT vectorises the long inner loops of {@link #vectorMatrix}
 * and {@link #project} (four input rows per pass, every array indexed alike); the rest stays scalar.
 */
public final class ScalarFloatKernels implements FloatKernels {

  static final ScalarFloatKernels INSTANCE = new ScalarFloatKernels();

  /** √(2/π), the GELU tanh form's constant (the batched model's, {@code Ops}). */
  public static final double GELU_C = Math.sqrt(2 / Math.PI);
  /** The cubic coefficient of the GELU tanh form. */
  public static final double GELU_A = 0.044715;

  private ScalarFloatKernels() {}

  @Override
  public String name() {
    return "scalar";
  }

  @Override
  public float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
    float s = 0;
    for (int j = 0; j < n; j++) {
      s += a[aOffset + j] * b[bOffset + j];
    }
    return s;
  }

  @Override
  public void vectorMatrix(float[] in, float[][] w, float[] out, int cols, float[] bias) {
    if (bias == null) {
      java.util.Arrays.fill(out, 0, cols, 0f);
    } else {
      System.arraycopy(bias, 0, out, 0, cols);
    }
    int rows = w.length;
    int i = 0;
    for (; i + 3 < rows; i += 4) {
      float x0 = in[i];
      float x1 = in[i + 1];
      float x2 = in[i + 2];
      float x3 = in[i + 3];
      float[] w0 = w[i];
      float[] w1 = w[i + 1];
      float[] w2 = w[i + 2];
      float[] w3 = w[i + 3];
      for (int j = 0; j < cols; j++) {
        out[j] += x0 * w0[j] + x1 * w1[j] + x2 * w2[j] + x3 * w3[j];
      }
    }
    for (; i < rows; i++) {
      float xi = in[i];
      float[] wi = w[i];
      for (int j = 0; j < cols; j++) {
        out[j] += xi * wi[j];
      }
    }
  }

  @Override
  public float project(float[] x, int xOffset, int d, float scale, float[] wTransposed, int m,
      float[] out, int outOffset) {
    float sq = 0;
    java.util.Arrays.fill(out, outOffset, outOffset + m, 0f);
    // an axpy per input dimension (a dot product per feature would be a float reduction, which
    // the JIT may not reorder)
    for (int j = 0; j < d; j++) {
      float xs = x[xOffset + j] * scale;
      sq += xs * xs;
      int row = j * m;
      for (int i = 0; i < m; i++) {
        out[outOffset + i] += xs * wTransposed[row + i];
      }
    }
    return sq;
  }

  @Override
  public float maxMinus(float[] a, int offset, int n, float shift) {
    float c = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < n; i++) {
      c = Math.max(c, a[offset + i] - shift);
    }
    return c;
  }

  @Override
  public void expFeatures(float[] a, int offset, int n, float shift1, float shift2,
      double epsilon, double scale) {
    for (int i = 0; i < n; i++) {
      float u = a[offset + i] - shift1 - shift2;
      a[offset + i] = (float) ((Math.exp(u) + epsilon) * scale);
    }
  }

  @Override
  public void layerNorm(float[] in, float[] gain, float[] bias, float[] out, double epsilon) {
    int d = in.length;
    float mean = 0;
    for (int j = 0; j < d; j++) {
      mean += in[j];
    }
    mean /= d;
    float variance = 0;
    for (int j = 0; j < d; j++) {
      float centered = in[j] - mean;
      variance += centered * centered;
    }
    variance /= d;
    float inverseStd = (float) (1 / Math.sqrt(variance + epsilon));
    for (int j = 0; j < d; j++) {
      out[j] = (in[j] - mean) * inverseStd * gain[j] + bias[j];
    }
  }

  @Override
  public void gelu(float[] a, int n) {
    for (int i = 0; i < n; i++) {
      a[i] = gelu(a[i]);
    }
  }

  /**
   * 0.5·x·(1 + tanh(u)) = x / (1 + e^(−2u)) exactly, with u = √(2/π)(x + 0.044715x³), through one
   * exp ({@code Math.exp} costs a third of {@code Math.tanh}). In double, so the two forms differ by
   * rounding only; for u → −∞ the exp overflows to +∞ and the quotient is the limit, −0.
   */
  public static float gelu(float x) {
    double inner = GELU_C * (x + GELU_A * x * x * x);
    return (float) (x / (1 + Math.exp(-2 * inner)));
  }

  @Override
  public void softmaxHeadStep(float[] keys, float[] values, int n, int keyDim, int valueDim,
      float[] q, int qOffset, float scale, float[] scores, float[] out, int outOffset) {
    // logits and their max
    float max = Float.NEGATIVE_INFINITY;
    for (int j = 0; j < n; j++) {
      int row = j * keyDim;
      float dot = 0;
      for (int t = 0; t < keyDim; t++) {
        dot += q[qOffset + t] * keys[row + t];
      }
      scores[j] = dot * scale;
      max = Math.max(max, scores[j]);
    }
    // exp and sum (≥ 1: the max term is exp(0))
    float sum = 0;
    for (int j = 0; j < n; j++) {
      float e = (float) Math.exp(scores[j] - max);
      scores[j] = e;
      sum += e;
    }
    // weighted values
    java.util.Arrays.fill(out, outOffset, outOffset + valueDim, 0f);
    for (int j = 0; j < n; j++) {
      float p = scores[j] / sum;
      int row = j * valueDim;
      for (int t = 0; t < valueDim; t++) {
        out[outOffset + t] += p * values[row + t];
      }
    }
  }

  @Override
  public void softmaxCausalEncode(float[] q, float[] k, float[] v, int length, int heads,
      int keyDim, int valueDim, float scale, float[] out) {
    float[] keys = new float[length * keyDim];
    float[] values = new float[length * valueDim];
    float[] scores = new float[length];
    for (int h = 0; h < heads; h++) {
      for (int t = 0; t < length; t++) {
        System.arraycopy(k, (t * heads + h) * keyDim, keys, t * keyDim, keyDim);
        System.arraycopy(v, (t * heads + h) * valueDim, values, t * valueDim, valueDim);
      }
      for (int i = 0; i < length; i++) {
        softmaxHeadStep(keys, values, i + 1, keyDim, valueDim, q, (i * heads + h) * keyDim,
            scale, scores, out, (i * heads + h) * valueDim);
      }
    }
  }

  @Override
  public void favorHeadStep(float[] s, int base, int features, int valueDim, float[] keyFeatures,
      float[] queryFeatures, float[] v, int vOffset, float[] out, int outOffset, float delta) {
    int width = valueDim + 1;
    // fold: S' += φ(k) [v, 1]ᵀ
    for (int i = 0; i < features; i++) {
      float fk = keyFeatures[i];
      int row = base + i * width;
      for (int j = 0; j < valueDim; j++) {
        s[row + j] += fk * v[vOffset + j];
      }
      s[row + valueDim] += fk;
    }
    // read: [num | den] = φ(q)ᵀ S', each column summed over the features in order
    float denominator = 0;
    for (int i = 0; i < features; i++) {
      denominator += queryFeatures[i] * s[base + i * width + valueDim];
    }
    denominator += delta;
    for (int j = 0; j < valueDim; j++) {
      float numerator = 0;
      for (int i = 0; i < features; i++) {
        numerator += queryFeatures[i] * s[base + i * width + j];
      }
      out[outOffset + j] = numerator / denominator;
    }
  }
}
