package dev.reranker.attention;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link FloatKernels} in the Vector API's lanes: the machine's preferred float species (16 lanes
 * on AVX-512, 8 on AVX2), fused multiply-adds, and {@code exp} through
 * {@link VectorOperators#EXP} (within 1 ulp of {@code Math.exp}'s float result, measured over
 * 2.5 million draws; on x86 the JDK's short-vector math library). Columns that do not fill a lane
 * run as in the reference.
 *
 * <p>Loaded only by {@link FloatKernelsChoice}, by name, when {@code jdk.incubator.vector} is
 * resolved: nothing else may refer to this class.
 *
 * <p>Products keep two independent accumulators per output lane (even and odd input rows), so a
 * chain of fused multiply-adds does not wait on the previous one's latency; their sum changes the
 * order of the additions, which is the float rounding the class comment of {@link FloatKernels}
 * allows.
 */
final class VectorFloatKernels implements FloatKernels {

  private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
  private static final int LANES = SPECIES.length();
  private static final float GELU_C = (float) ScalarFloatKernels.GELU_C;
  private static final float GELU_A = (float) ScalarFloatKernels.GELU_A;

  VectorFloatKernels() {}

  @Override
  public String name() {
    // fewer than 4 lanes would be slower than the reference: FloatKernelsChoice refuses it
    return LANES >= 4 ? "vector-" + LANES + "x32" : "too-narrow-" + LANES;
  }

  @Override
  public float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
    int j = 0;
    float s = 0;
    if (n >= 2 * LANES) {
      FloatVector even = FloatVector.zero(SPECIES);
      FloatVector odd = FloatVector.zero(SPECIES);
      for (; j + 2 * LANES <= n; j += 2 * LANES) {
        even = FloatVector.fromArray(SPECIES, a, aOffset + j)
            .fma(FloatVector.fromArray(SPECIES, b, bOffset + j), even);
        odd = FloatVector.fromArray(SPECIES, a, aOffset + j + LANES)
            .fma(FloatVector.fromArray(SPECIES, b, bOffset + j + LANES), odd);
      }
      s = even.add(odd).reduceLanes(VectorOperators.ADD);
    }
    if (j + LANES <= n) {
      s += FloatVector.fromArray(SPECIES, a, aOffset + j)
          .mul(FloatVector.fromArray(SPECIES, b, bOffset + j)).reduceLanes(VectorOperators.ADD);
      j += LANES;
    }
    for (; j < n; j++) {
      s += a[aOffset + j] * b[bOffset + j];
    }
    return s;
  }

  @Override
  public void vectorMatrix(float[] in, float[][] w, float[] out, int cols, float[] bias) {
    int rows = w.length;
    int j = 0;
    for (; j + 2 * LANES <= cols; j += 2 * LANES) {
      FloatVector even0 = bias == null ? FloatVector.zero(SPECIES)
          : FloatVector.fromArray(SPECIES, bias, j);
      FloatVector even1 = bias == null ? FloatVector.zero(SPECIES)
          : FloatVector.fromArray(SPECIES, bias, j + LANES);
      FloatVector odd0 = FloatVector.zero(SPECIES);
      FloatVector odd1 = FloatVector.zero(SPECIES);
      int i = 0;
      for (; i + 1 < rows; i += 2) {
        FloatVector x = FloatVector.broadcast(SPECIES, in[i]);
        FloatVector y = FloatVector.broadcast(SPECIES, in[i + 1]);
        float[] w0 = w[i];
        float[] w1 = w[i + 1];
        even0 = FloatVector.fromArray(SPECIES, w0, j).fma(x, even0);
        even1 = FloatVector.fromArray(SPECIES, w0, j + LANES).fma(x, even1);
        odd0 = FloatVector.fromArray(SPECIES, w1, j).fma(y, odd0);
        odd1 = FloatVector.fromArray(SPECIES, w1, j + LANES).fma(y, odd1);
      }
      if (i < rows) {
        FloatVector x = FloatVector.broadcast(SPECIES, in[i]);
        even0 = FloatVector.fromArray(SPECIES, w[i], j).fma(x, even0);
        even1 = FloatVector.fromArray(SPECIES, w[i], j + LANES).fma(x, even1);
      }
      even0.add(odd0).intoArray(out, j);
      even1.add(odd1).intoArray(out, j + LANES);
    }
    for (; j + LANES <= cols; j += LANES) {
      FloatVector even = bias == null ? FloatVector.zero(SPECIES)
          : FloatVector.fromArray(SPECIES, bias, j);
      FloatVector odd = FloatVector.zero(SPECIES);
      int i = 0;
      for (; i + 1 < rows; i += 2) {
        even = FloatVector.fromArray(SPECIES, w[i], j)
            .fma(FloatVector.broadcast(SPECIES, in[i]), even);
        odd = FloatVector.fromArray(SPECIES, w[i + 1], j)
            .fma(FloatVector.broadcast(SPECIES, in[i + 1]), odd);
      }
      if (i < rows) {
        even = FloatVector.fromArray(SPECIES, w[i], j)
            .fma(FloatVector.broadcast(SPECIES, in[i]), even);
      }
      even.add(odd).intoArray(out, j);
    }
    for (; j < cols; j++) {
      float sum = bias == null ? 0f : bias[j];
      for (int i = 0; i < rows; i++) {
        sum += in[i] * w[i][j];
      }
      out[j] = sum;
    }
  }

  @Override
  public float project(float[] x, int xOffset, int d, float scale, float[] wTransposed, int m,
      float[] out, int outOffset) {
    float sq = 0;
    for (int k = 0; k < d; k++) {
      float xs = x[xOffset + k] * scale;
      sq += xs * xs;
    }
    int i = 0;
    for (; i + LANES <= m; i += LANES) {
      FloatVector even = FloatVector.zero(SPECIES);
      FloatVector odd = FloatVector.zero(SPECIES);
      int k = 0;
      for (; k + 1 < d; k += 2) {
        even = FloatVector.fromArray(SPECIES, wTransposed, k * m + i)
            .fma(FloatVector.broadcast(SPECIES, x[xOffset + k] * scale), even);
        odd = FloatVector.fromArray(SPECIES, wTransposed, (k + 1) * m + i)
            .fma(FloatVector.broadcast(SPECIES, x[xOffset + k + 1] * scale), odd);
      }
      if (k < d) {
        even = FloatVector.fromArray(SPECIES, wTransposed, k * m + i)
            .fma(FloatVector.broadcast(SPECIES, x[xOffset + k] * scale), even);
      }
      even.add(odd).intoArray(out, outOffset + i);
    }
    for (; i < m; i++) {
      float sum = 0;
      for (int k = 0; k < d; k++) {
        sum += x[xOffset + k] * scale * wTransposed[k * m + i];
      }
      out[outOffset + i] = sum;
    }
    return sq;
  }

  @Override
  public float maxMinus(float[] a, int offset, int n, float shift) {
    // max(a_i − shift) over i: the subtraction is monotone, so max first, then subtract
    // (the same float as the reference's: rounding a − shift is monotone in a)
    float max = Float.NEGATIVE_INFINITY;
    int i = 0;
    if (n >= LANES) {
      FloatVector acc = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
      for (; i + LANES <= n; i += LANES) {
        acc = acc.max(FloatVector.fromArray(SPECIES, a, offset + i));
      }
      max = acc.reduceLanes(VectorOperators.MAX);
    }
    for (; i < n; i++) {
      max = Math.max(max, a[offset + i]);
    }
    return max - shift;
  }

  @Override
  public void expFeatures(float[] a, int offset, int n, float shift1, float shift2,
      double epsilon, double scale) {
    float eps = (float) epsilon;
    float s = (float) scale;
    int i = 0;
    for (; i + LANES <= n; i += LANES) {
      FloatVector u = FloatVector.fromArray(SPECIES, a, offset + i).sub(shift1).sub(shift2);
      u.lanewise(VectorOperators.EXP).add(eps).mul(s).intoArray(a, offset + i);
    }
    for (; i < n; i++) {
      float u = a[offset + i] - shift1 - shift2;
      a[offset + i] = (float) ((Math.exp(u) + epsilon) * scale);
    }
  }

  @Override
  public void gelu(float[] a, int n) {
    int i = 0;
    for (; i + LANES <= n; i += LANES) {
      FloatVector x = FloatVector.fromArray(SPECIES, a, i);
      // u = c·(x + a·x³); x / (1 + e^(−2u)): −0 as u → −∞ (the exp overflows to +∞), x as u → +∞
      FloatVector inner = x.mul(x).mul(x).mul(GELU_A).add(x).mul(GELU_C);
      FloatVector e = inner.mul(-2f).lanewise(VectorOperators.EXP);
      x.div(e.add(1f)).intoArray(a, i);
    }
    for (; i < n; i++) {
      a[i] = ScalarFloatKernels.gelu(a[i]);
    }
  }

  @Override
  public void favorHeadStep(float[] s, int base, int features, int valueDim, float[] keyFeatures,
      float[] queryFeatures, float[] v, int vOffset, float[] out, int outOffset, float delta) {
    int width = valueDim + 1;
    // the z column: z += φ(k); den = φ(q)ᵀz
    float denominator = 0;
    for (int i = 0; i < features; i++) {
      int at = base + i * width + valueDim;
      float z = s[at] + keyFeatures[i];
      s[at] = z;
      denominator += queryFeatures[i] * z;
    }
    denominator += delta;
    // the S columns, a lane-block at a time: S_i += φ(k)_i v, then num += φ(q)_i S_i, in one pass
    int j = 0;
    for (; j + LANES <= valueDim; j += LANES) {
      FloatVector vj = FloatVector.fromArray(SPECIES, v, vOffset + j);
      FloatVector numerator = FloatVector.zero(SPECIES);
      for (int i = 0; i < features; i++) {
        int at = base + i * width + j;
        FloatVector updated = vj.fma(FloatVector.broadcast(SPECIES, keyFeatures[i]),
            FloatVector.fromArray(SPECIES, s, at));
        updated.intoArray(s, at);
        numerator = updated.fma(FloatVector.broadcast(SPECIES, queryFeatures[i]), numerator);
      }
      numerator.div(denominator).intoArray(out, outOffset + j);
    }
    for (; j < valueDim; j++) {
      float numerator = 0;
      for (int i = 0; i < features; i++) {
        int at = base + i * width + j;
        float updated = s[at] + keyFeatures[i] * v[vOffset + j];
        s[at] = updated;
        numerator += queryFeatures[i] * updated;
      }
      out[outOffset + j] = numerator / denominator;
    }
  }
}
