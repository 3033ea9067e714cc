package dev.reranker.attention;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Exact causal softmax attention over a whole sequence in vector lanes, tiled: per head, the keys
 * transposed once (d × L), so a block of {@value #QUERIES} queries scores a lane of keys with one
 * key load per input dimension and no lane sums; each query's row of scores is then max-shifted,
 * exponentiated and summed in lanes, and the values are read once per block of queries. O(L²·d)
 * like any exact form, at GEMM-like arithmetic intensity.
 *
 * <p>Used by {@link VectorFloatKernels#softmaxCausalEncode} only, so it is loaded only where
 * {@code jdk.incubator.vector} is resolved; built from the same IEEE-only operations as {@link
 * VectorFloatKernels}, so its bits do not depend on the JIT. Not thread-safe: scratch buffers.
 */
final class SoftmaxTiledEncoder {

  /** Queries scored together: each key lane loaded is used this many times. */
  static final int QUERIES = 4;

  private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
  private static final int LANES = SPECIES.length();

  private float[] keysTransposed = new float[0]; // (d, L) of one head
  private float[] values = new float[0]; // (L, d_v) of one head
  private float[] scores = new float[0]; // (QUERIES, L)
  private final float[] sums = new float[QUERIES];

  /**
   * Encodes head h of positions [0, length) of position-major q, k (length, heads·d) and v
   * (length, heads·d_v) into out (length, heads·d_v).
   */
  void encodeHead(float[] q, float[] k, float[] v, int length, int heads, int h, int keyDim,
      int valueDim, float scale, float[] out) {
    int padded = (length + LANES - 1) / LANES * LANES;
    if (keysTransposed.length < keyDim * padded) {
      keysTransposed = new float[keyDim * padded];
    }
    if (values.length < length * valueDim) {
      values = new float[length * valueDim];
    }
    if (scores.length < QUERIES * padded) {
      scores = new float[QUERIES * padded];
    }
    for (int t = 0; t < length; t++) {
      int kRow = (t * heads + h) * keyDim;
      for (int c = 0; c < keyDim; c++) {
        keysTransposed[c * padded + t] = k[kRow + c];
      }
      System.arraycopy(v, (t * heads + h) * valueDim, values, t * valueDim, valueDim);
    }
    for (int i0 = 0; i0 < length; i0 += QUERIES) {
      int rows = Math.min(QUERIES, length - i0);
      scoreBlock(q, h, heads, keyDim, i0, rows, padded, scale);
      for (int r = 0; r < rows; r++) {
        int seen = i0 + r + 1; // query i0 + r attends to keys 0 … i0 + r
        sums[r] = exponentiate(r * padded, seen);
        for (int j = seen; j < i0 + rows; j++) {
          scores[r * padded + j] = 0f; // the causal mask: later keys weigh nothing
        }
      }
      weightValues(i0, rows, padded, valueDim, sums, out, heads, h);
    }
  }

  /** scores[r][j] = scale·q_{i0+r}ᵀk_j for j ≤ i0 + rows − 1 (rows beyond a query's own j unused). */
  private void scoreBlock(float[] q, int h, int heads, int keyDim, int i0, int rows, int padded,
      float scale) {
    int keys = i0 + rows; // keys 0 … i0 + rows − 1 are seen by some query of the block
    int q0 = (i0 * heads + h) * keyDim;
    int q1 = rows > 1 ? ((i0 + 1) * heads + h) * keyDim : q0;
    int q2 = rows > 2 ? ((i0 + 2) * heads + h) * keyDim : q0;
    int q3 = rows > 3 ? ((i0 + 3) * heads + h) * keyDim : q0;
    for (int j = 0; j < keys; j += LANES) {
      FloatVector a0 = FloatVector.zero(SPECIES);
      FloatVector a1 = FloatVector.zero(SPECIES);
      FloatVector a2 = FloatVector.zero(SPECIES);
      FloatVector a3 = FloatVector.zero(SPECIES);
      for (int c = 0; c < keyDim; c++) {
        FloatVector kc = FloatVector.fromArray(SPECIES, keysTransposed, c * padded + j);
        a0 = kc.fma(FloatVector.broadcast(SPECIES, q[q0 + c]), a0);
        a1 = kc.fma(FloatVector.broadcast(SPECIES, q[q1 + c]), a1);
        a2 = kc.fma(FloatVector.broadcast(SPECIES, q[q2 + c]), a2);
        a3 = kc.fma(FloatVector.broadcast(SPECIES, q[q3 + c]), a3);
      }
      a0.mul(scale).intoArray(scores, j);
      a1.mul(scale).intoArray(scores, padded + j);
      a2.mul(scale).intoArray(scores, 2 * padded + j);
      a3.mul(scale).intoArray(scores, 3 * padded + j);
    }
  }

  /** In place over scores[from, from + n): e_j = exp(s_j − max s); returns Σ e_j. */
  private float exponentiate(int from, int n) {
    float max = Float.NEGATIVE_INFINITY;
    int j = 0;
    for (; j + LANES <= n; j += LANES) {
      max = Math.max(max, FloatVector.fromArray(SPECIES, scores, from + j)
          .reduceLanes(VectorOperators.MAX)); // exact whatever the order
    }
    for (int t = j; t < n; t++) {
      max = Math.max(max, scores[from + t]);
    }
    FloatVector acc = FloatVector.zero(SPECIES);
    j = 0;
    for (; j + LANES <= n; j += LANES) {
      FloatVector e = VectorFloatKernels.exp(FloatVector.fromArray(SPECIES, scores, from + j)
          .sub(max));
      e.intoArray(scores, from + j);
      acc = acc.add(e);
    }
    float sum = VectorFloatKernels.sum(acc);
    for (; j < n; j++) {
      float e = (float) Math.exp(scores[from + j] - max);
      scores[from + j] = e;
      sum += e;
    }
    return sum;
  }

  /** out_{i0+r} = Σ_j (e_rj / sum_r)·v_j, each value lane loaded once for the block's queries. */
  private void weightValues(int i0, int rows, int padded, int valueDim, float[] sums,
      float[] out, int heads, int h) {
    int keys = i0 + rows;
    float inv0 = 1 / sums[0];
    float inv1 = rows > 1 ? 1 / sums[1] : 0f;
    float inv2 = rows > 2 ? 1 / sums[2] : 0f;
    float inv3 = rows > 3 ? 1 / sums[3] : 0f;
    int t = 0;
    for (; t + LANES <= valueDim; t += LANES) {
      FloatVector o0 = FloatVector.zero(SPECIES);
      FloatVector o1 = FloatVector.zero(SPECIES);
      FloatVector o2 = FloatVector.zero(SPECIES);
      FloatVector o3 = FloatVector.zero(SPECIES);
      for (int j = 0; j < keys; j++) {
        FloatVector vj = FloatVector.fromArray(SPECIES, values, j * valueDim + t);
        o0 = vj.fma(FloatVector.broadcast(SPECIES, scores[j]), o0);
        o1 = vj.fma(FloatVector.broadcast(SPECIES, scores[padded + j]), o1);
        o2 = vj.fma(FloatVector.broadcast(SPECIES, scores[2 * padded + j]), o2);
        o3 = vj.fma(FloatVector.broadcast(SPECIES, scores[3 * padded + j]), o3);
      }
      o0.mul(inv0).intoArray(out, (i0 * heads + h) * valueDim + t);
      if (rows > 1) {
        o1.mul(inv1).intoArray(out, ((i0 + 1) * heads + h) * valueDim + t);
      }
      if (rows > 2) {
        o2.mul(inv2).intoArray(out, ((i0 + 2) * heads + h) * valueDim + t);
      }
      if (rows > 3) {
        o3.mul(inv3).intoArray(out, ((i0 + 3) * heads + h) * valueDim + t);
      }
    }
    for (; t < valueDim; t++) {
      for (int r = 0; r < rows; r++) {
        float acc = 0;
        for (int j = 0; j < keys; j++) {
          acc += scores[r * padded + j] * values[j * valueDim + t];
        }
        out[((i0 + r) * heads + h) * valueDim + t] = acc / sums[r];
      }
    }
  }
}
