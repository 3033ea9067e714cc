package dev.reranker.attention;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link FloatKernels} in the Vector API's lanes: the machine's preferred float species (16 lanes
 * on AVX-512, 8 on AVX2), fused multiply-adds, and {@code exp} as a polynomial in lanes (below).
 * Columns that do not fill a lane run as in the reference.
 *
 * <p><b>The same bits on every thread, compiled or not.</b> A Vector API method runs as Java code
 * until C2 compiles it into vector instructions, and the two may differ where the API leaves the
 * result open: {@code reduceLanes(ADD)} may add the lanes in any order, and
 * {@link VectorOperators#EXP} is the JDK's short-vector math library compiled and {@code
 * Math.exp} per lane before (1 ulp apart; measured: a state folded on the fold pool differed in
 * the 7th digit from the same fold on the caller, one of them not yet compiled). Users' states
 * must not depend on which thread folded them or when, so this class uses only operations whose
 * every lane is one IEEE operation (add, multiply, fused multiply-add, divide, compare, blend,
 * reinterpret): lane sums through a fixed butterfly ({@link #sum}), and its own {@link #exp}.
 *
 * <p>Loaded only by {@link FloatKernelsChoice}, by name, when {@code jdk.incubator.vector} is
 * resolved: nothing else may refer to this class.
 *
 * <p>Products keep two to four independent accumulators per output lane (input rows taken in
 * turn), so a chain of fused multiply-adds does not wait on the previous one's latency; their sum
 * changes the order of the additions, which is the float rounding the class comment of {@link
 * FloatKernels} allows.
 */
final class VectorFloatKernels implements FloatKernels {

  private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
  private static final int LANES = SPECIES.length();
  private static final float GELU_C = (float) ScalarFloatKernels.GELU_C;
  private static final float GELU_A = (float) ScalarFloatKernels.GELU_A;

  /** i ↦ i xor 2^k, for k = log2(LANES) − 1 … 0: the butterfly of {@link #sum}. */
  private static final jdk.incubator.vector.VectorShuffle<Float>[] BUTTERFLY = butterfly();

  @SuppressWarnings("unchecked")
  private static jdk.incubator.vector.VectorShuffle<Float>[] butterfly() {
    int steps = Integer.numberOfTrailingZeros(LANES);
    jdk.incubator.vector.VectorShuffle<Float>[] shuffles =
        new jdk.incubator.vector.VectorShuffle[steps];
    for (int k = 0; k < steps; k++) {
      int stride = LANES >> (k + 1);
      shuffles[k] = jdk.incubator.vector.VectorShuffle.fromOp(SPECIES, i -> i ^ stride);
    }
    return shuffles;
  }

  /** Positions from which {@link #softmaxCausalEncode} runs its heads in parallel. */
  static final int PARALLEL_HEADS_FROM = 512;

  VectorFloatKernels() {}

  /**
   * The sum of v's lanes in one fixed order (halves, then quarters, …: a butterfly), so that it is
   * the same float compiled or not; {@code reduceLanes(ADD)} leaves the order open.
   */
  static float sum(FloatVector v) {
    for (jdk.incubator.vector.VectorShuffle<Float> shuffle : BUTTERFLY) {
      v = v.add(v.rearrange(shuffle));
    }
    return v.lane(0);
  }

  // exp: Cephes' expf. x = n·ln2 + r with n = round(x·log2 e), |r| ≤ ln2/2 (ln2 in two parts, so
  // r is exact to float); e^r by a degree-7 polynomial; 2^n from n's bits. Within 2 ulp of the
  // float nearest e^x (tested against Math.exp); e^x for x < -86.9 (below 2^-125, where 2^n has no
  // normal float) is flushed to 0, above 88.8 it is +∞, NaN stays NaN.
  private static final float LOG2E = 1.44269504088896341f;
  private static final float LN2_HI = 0.693359375f;
  private static final float LN2_LO = -2.12194440e-4f;
  private static final float ROUNDING_SHIFTER = 12582912f; // 1.5·2^23: adding it rounds to int
  private static final int SHIFTER_BITS = 0x4B400000;
  private static final float EXP_OVERFLOW = 88.8f;
  private static final float EXP_UNDERFLOW = -86.9f;

  /**
   * In place over a[from, from + n): e_j = exp(a_j − max a), the numerators of a softmax; returns
   * Σ e_j (≥ 1: the max term is e⁰), summed in lanes and then by the fixed butterfly.
   */
  static float softmaxNumerators(float[] a, int from, int n) {
    float max = Float.NEGATIVE_INFINITY;
    int j = 0;
    if (n >= LANES) {
      FloatVector m = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
      for (; j + LANES <= n; j += LANES) {
        m = m.max(FloatVector.fromArray(SPECIES, a, from + j));
      }
      max = m.reduceLanes(VectorOperators.MAX); // exact in any order
    }
    for (; j < n; j++) {
      max = Math.max(max, a[from + j]);
    }
    float sum = 0;
    j = 0;
    if (n >= LANES) {
      FloatVector acc = FloatVector.zero(SPECIES);
      for (; j + LANES <= n; j += LANES) {
        FloatVector e = exp(FloatVector.fromArray(SPECIES, a, from + j).sub(max));
        e.intoArray(a, from + j);
        acc = acc.add(e);
      }
      sum = sum(acc);
    }
    for (; j < n; j++) {
      float e = (float) Math.exp(a[from + j] - max);
      a[from + j] = e;
      sum += e;
    }
    return sum;
  }

  /** e^x in each lane, from IEEE operations only (see above). */
  static FloatVector exp(FloatVector x) {
    FloatVector shifted = x.mul(LOG2E).add(ROUNDING_SHIFTER);
    FloatVector n = shifted.sub(ROUNDING_SHIFTER);
    jdk.incubator.vector.IntVector bits = shifted.reinterpretAsInts().sub(SHIFTER_BITS);
    FloatVector r = n.fma(FloatVector.broadcast(SPECIES, -LN2_HI), x); // exact: LN2_HI is short
    r = n.fma(FloatVector.broadcast(SPECIES, -LN2_LO), r);
    FloatVector p = r.mul(1.9875691500E-4f).add(1.3981999507E-3f);
    p = p.fma(r, FloatVector.broadcast(SPECIES, 8.3334519073E-3f));
    p = p.fma(r, FloatVector.broadcast(SPECIES, 4.1665795894E-2f));
    p = p.fma(r, FloatVector.broadcast(SPECIES, 1.6666665459E-1f));
    p = p.fma(r, FloatVector.broadcast(SPECIES, 5.0000001201E-1f));
    p = p.mul(r).fma(r, r).add(1f); // p·r² + r + 1
    // 2^n as 2^(n−1)·2, so that n = 128 (e^x just below float's largest) is still finite
    FloatVector twoToNMinus1 = bits.add(126).lanewise(VectorOperators.LSHL, 23)
        .reinterpretAsFloats();
    FloatVector y = p.mul(twoToNMinus1).mul(2f);
    y = y.blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, EXP_OVERFLOW));
    return y.blend(0f, x.compare(VectorOperators.LT, EXP_UNDERFLOW));
  }

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
      s = sum(even.add(odd));
    }
    if (j + LANES <= n) {
      s += sum(FloatVector.fromArray(SPECIES, a, aOffset + j)
          .mul(FloatVector.fromArray(SPECIES, b, bOffset + j)));
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
    // two column lanes at a time, four accumulators each (input rows i mod 4): eight independent
    // chains of fused multiply-adds, enough to hide their latency
    for (; j + 2 * LANES <= cols; j += 2 * LANES) {
      FloatVector a0 = bias == null ? FloatVector.zero(SPECIES)
          : FloatVector.fromArray(SPECIES, bias, j);
      FloatVector a1 = bias == null ? FloatVector.zero(SPECIES)
          : FloatVector.fromArray(SPECIES, bias, j + LANES);
      FloatVector b0 = FloatVector.zero(SPECIES);
      FloatVector b1 = FloatVector.zero(SPECIES);
      FloatVector c0 = FloatVector.zero(SPECIES);
      FloatVector c1 = FloatVector.zero(SPECIES);
      FloatVector d0 = FloatVector.zero(SPECIES);
      FloatVector d1 = FloatVector.zero(SPECIES);
      int i = 0;
      for (; i + 3 < rows; i += 4) {
        FloatVector x = FloatVector.broadcast(SPECIES, in[i]);
        FloatVector y = FloatVector.broadcast(SPECIES, in[i + 1]);
        FloatVector z = FloatVector.broadcast(SPECIES, in[i + 2]);
        FloatVector t = FloatVector.broadcast(SPECIES, in[i + 3]);
        float[] w0 = w[i];
        float[] w1 = w[i + 1];
        float[] w2 = w[i + 2];
        float[] w3 = w[i + 3];
        a0 = FloatVector.fromArray(SPECIES, w0, j).fma(x, a0);
        a1 = FloatVector.fromArray(SPECIES, w0, j + LANES).fma(x, a1);
        b0 = FloatVector.fromArray(SPECIES, w1, j).fma(y, b0);
        b1 = FloatVector.fromArray(SPECIES, w1, j + LANES).fma(y, b1);
        c0 = FloatVector.fromArray(SPECIES, w2, j).fma(z, c0);
        c1 = FloatVector.fromArray(SPECIES, w2, j + LANES).fma(z, c1);
        d0 = FloatVector.fromArray(SPECIES, w3, j).fma(t, d0);
        d1 = FloatVector.fromArray(SPECIES, w3, j + LANES).fma(t, d1);
      }
      for (; i < rows; i++) {
        FloatVector x = FloatVector.broadcast(SPECIES, in[i]);
        a0 = FloatVector.fromArray(SPECIES, w[i], j).fma(x, a0);
        a1 = FloatVector.fromArray(SPECIES, w[i], j + LANES).fma(x, a1);
      }
      a0.add(b0).add(c0.add(d0)).intoArray(out, j);
      a1.add(b1).add(c1.add(d1)).intoArray(out, j + LANES);
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
      exp(u).add(eps).mul(s).intoArray(a, offset + i);
    }
    for (; i < n; i++) {
      float u = a[offset + i] - shift1 - shift2;
      a[offset + i] = (float) ((Math.exp(u) + epsilon) * scale);
    }
  }

  @Override
  public void layerNorm(float[] in, float[] gain, float[] bias, float[] out, double epsilon) {
    int d = in.length;
    int bound = SPECIES.loopBound(d);
    float sum = 0;
    int j = 0;
    if (bound > 0) {
      FloatVector acc = FloatVector.zero(SPECIES);
      for (; j < bound; j += LANES) {
        acc = acc.add(FloatVector.fromArray(SPECIES, in, j));
      }
      sum = sum(acc);
    }
    for (; j < d; j++) {
      sum += in[j];
    }
    float mean = sum / d;
    float squares = 0;
    j = 0;
    if (bound > 0) {
      FloatVector acc = FloatVector.zero(SPECIES);
      for (; j < bound; j += LANES) {
        FloatVector centered = FloatVector.fromArray(SPECIES, in, j).sub(mean);
        acc = centered.fma(centered, acc);
      }
      squares = sum(acc);
    }
    for (; j < d; j++) {
      float centered = in[j] - mean;
      squares += centered * centered;
    }
    float inverseStd = (float) (1 / Math.sqrt(squares / d + epsilon));
    j = 0;
    for (; j < bound; j += LANES) {
      FloatVector.fromArray(SPECIES, in, j).sub(mean).mul(inverseStd)
          .fma(FloatVector.fromArray(SPECIES, gain, j), FloatVector.fromArray(SPECIES, bias, j))
          .intoArray(out, j);
    }
    for (; j < d; j++) {
      out[j] = (in[j] - mean) * inverseStd * gain[j] + bias[j];
    }
  }

  @Override
  public void gelu(float[] a, int n) {
    int i = 0;
    for (; i + LANES <= n; i += LANES) {
      FloatVector x = FloatVector.fromArray(SPECIES, a, i);
      // u = c·(x + a·x³); x / (1 + e^(−2u)): −0 as u → −∞ (the exp overflows to +∞), x as u → +∞
      FloatVector inner = x.mul(x).mul(x).mul(GELU_A).add(x).mul(GELU_C);
      FloatVector e = exp(inner.mul(-2f));
      x.div(e.add(1f)).intoArray(a, i);
    }
    for (; i < n; i++) {
      a[i] = ScalarFloatKernels.gelu(a[i]);
    }
  }

  @Override
  public void softmaxHeadStep(float[] keys, float[] values, int n, int keyDim, int valueDim,
      float[] q, int qOffset, float scale, float[] scores, float[] out, int outOffset) {
    // logits: one dot product per cached key (the keys are rows; each dot is a lane product and
    // a fixed-order lane sum, and the positions are independent, so they overlap in the core)
    for (int j = 0; j < n; j++) {
      scores[j] = dot(q, qOffset, keys, j * keyDim, keyDim) * scale;
    }
    float sum = softmaxNumerators(scores, 0, n);
    // the weights e_j / sum, once each (a lane of quotients is the same bits as one at a time)
    int j = 0;
    for (; j + LANES <= n; j += LANES) {
      FloatVector.fromArray(SPECIES, scores, j).div(sum).intoArray(scores, j);
    }
    for (; j < n; j++) {
      scores[j] /= sum;
    }
    // out = Σ_j w_j·v_j, a lane block of the output at a time
    int t = 0;
    for (; t + LANES <= valueDim; t += LANES) {
      FloatVector even = FloatVector.zero(SPECIES);
      FloatVector odd = FloatVector.zero(SPECIES);
      int i = 0;
      for (; i + 1 < n; i += 2) {
        even = FloatVector.fromArray(SPECIES, values, i * valueDim + t)
            .fma(FloatVector.broadcast(SPECIES, scores[i]), even);
        odd = FloatVector.fromArray(SPECIES, values, (i + 1) * valueDim + t)
            .fma(FloatVector.broadcast(SPECIES, scores[i + 1]), odd);
      }
      if (i < n) {
        even = FloatVector.fromArray(SPECIES, values, i * valueDim + t)
            .fma(FloatVector.broadcast(SPECIES, scores[i]), even);
      }
      even.add(odd).intoArray(out, outOffset + t);
    }
    for (; t < valueDim; t++) {
      float acc = 0;
      for (int i = 0; i < n; i++) {
        acc += scores[i] * values[i * valueDim + t];
      }
      out[outOffset + t] = acc;
    }
  }

  @Override
  public void softmaxCausalEncode(float[] q, float[] k, float[] v, int length, int heads,
      int keyDim, int valueDim, float scale, float[] out) {
    // heads are independent: one per core (the common pool and the caller), each with its own
    // scratch; every output element is written by one head, so the result is the same bits
    // whichever thread ran it. Short sequences stay on the caller: handing a head to the pool
    // costs more than encoding it below ≈ 512 positions (measured: 256 positions 0.13 ms on
    // one thread, 0.3 ms with the hand-off).
    java.util.stream.IntStream range = java.util.stream.IntStream.range(0, heads);
    (length >= PARALLEL_HEADS_FROM ? range.parallel() : range).forEach(h ->
        new SoftmaxTiledEncoder().encodeHead(q, k, v, length, heads, h, keyDim, valueDim, scale,
            out));
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
