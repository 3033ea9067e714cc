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
  static final int QUERIES = 8;

  private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
  private static final int LANES = SPECIES.length();

  private float[] keysTransposed = new float[0]; // (d, L) of one head
  private float[] values = new float[0]; // (L, d_v) of one head
  private float[] scores = new float[0]; // (QUERIES, L)
  private final float[] sums = new float[QUERIES];
  private final int[] queryRows = new int[QUERIES];

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
        sums[r] = VectorFloatKernels.softmaxNumerators(scores, r * padded, seen);
        for (int j = seen; j < i0 + rows; j++) {
          scores[r * padded + j] = 0f; // the causal mask: later keys weigh nothing
        }
      }
      weightValues(i0, rows, padded, valueDim, sums, out, heads, h);
    }
  }

  /**
   * scores[r][j] = scale·q_{i0+r}ᵀk_j for j &lt; i0 + rows (keys later than a query's own position
   * are masked afterwards): one accumulator per query, {@value #QUERIES} independent chains of
   * fused multiply-adds per key lane.
   */
  private void scoreBlock(float[] q, int h, int heads, int keyDim, int i0, int rows, int padded,
      float scale) {
    int keys = i0 + rows;
    int[] at = queryRows;
    for (int r = 0; r < QUERIES; r++) {
      at[r] = ((i0 + Math.min(r, rows - 1)) * heads + h) * keyDim; // past the end: repeat a row
    }
    for (int j = 0; j < keys; j += LANES) {
      FloatVector a0 = FloatVector.zero(SPECIES);
      FloatVector a1 = FloatVector.zero(SPECIES);
      FloatVector a2 = FloatVector.zero(SPECIES);
      FloatVector a3 = FloatVector.zero(SPECIES);
      FloatVector a4 = FloatVector.zero(SPECIES);
      FloatVector a5 = FloatVector.zero(SPECIES);
      FloatVector a6 = FloatVector.zero(SPECIES);
      FloatVector a7 = FloatVector.zero(SPECIES);
      for (int c = 0; c < keyDim; c++) {
        FloatVector kc = FloatVector.fromArray(SPECIES, keysTransposed, c * padded + j);
        a0 = kc.fma(FloatVector.broadcast(SPECIES, q[at[0] + c]), a0);
        a1 = kc.fma(FloatVector.broadcast(SPECIES, q[at[1] + c]), a1);
        a2 = kc.fma(FloatVector.broadcast(SPECIES, q[at[2] + c]), a2);
        a3 = kc.fma(FloatVector.broadcast(SPECIES, q[at[3] + c]), a3);
        a4 = kc.fma(FloatVector.broadcast(SPECIES, q[at[4] + c]), a4);
        a5 = kc.fma(FloatVector.broadcast(SPECIES, q[at[5] + c]), a5);
        a6 = kc.fma(FloatVector.broadcast(SPECIES, q[at[6] + c]), a6);
        a7 = kc.fma(FloatVector.broadcast(SPECIES, q[at[7] + c]), a7);
      }
      a0.mul(scale).intoArray(scores, j);
      a1.mul(scale).intoArray(scores, padded + j);
      a2.mul(scale).intoArray(scores, 2 * padded + j);
      a3.mul(scale).intoArray(scores, 3 * padded + j);
      a4.mul(scale).intoArray(scores, 4 * padded + j);
      a5.mul(scale).intoArray(scores, 5 * padded + j);
      a6.mul(scale).intoArray(scores, 6 * padded + j);
      a7.mul(scale).intoArray(scores, 7 * padded + j);
    }
  }

  /**
   * out_{i0+r} = Σ_j (e_rj / sum_r)·v_j: each value lane loaded once for the block's queries, one
   * accumulator per query.
   */
  private void weightValues(int i0, int rows, int padded, int valueDim, float[] sums,
      float[] out, int heads, int h) {
    int keys = i0 + rows;
    int t = 0;
    for (; t + LANES <= valueDim; t += LANES) {
      FloatVector o0 = FloatVector.zero(SPECIES);
      FloatVector o1 = FloatVector.zero(SPECIES);
      FloatVector o2 = FloatVector.zero(SPECIES);
      FloatVector o3 = FloatVector.zero(SPECIES);
      FloatVector o4 = FloatVector.zero(SPECIES);
      FloatVector o5 = FloatVector.zero(SPECIES);
      FloatVector o6 = FloatVector.zero(SPECIES);
      FloatVector o7 = FloatVector.zero(SPECIES);
      for (int j = 0; j < keys; j++) {
        FloatVector vj = FloatVector.fromArray(SPECIES, values, j * valueDim + t);
        o0 = vj.fma(FloatVector.broadcast(SPECIES, scores[j]), o0);
        o1 = vj.fma(FloatVector.broadcast(SPECIES, scores[padded + j]), o1);
        o2 = vj.fma(FloatVector.broadcast(SPECIES, scores[2 * padded + j]), o2);
        o3 = vj.fma(FloatVector.broadcast(SPECIES, scores[3 * padded + j]), o3);
        o4 = vj.fma(FloatVector.broadcast(SPECIES, scores[4 * padded + j]), o4);
        o5 = vj.fma(FloatVector.broadcast(SPECIES, scores[5 * padded + j]), o5);
        o6 = vj.fma(FloatVector.broadcast(SPECIES, scores[6 * padded + j]), o6);
        o7 = vj.fma(FloatVector.broadcast(SPECIES, scores[7 * padded + j]), o7);
      }
      // explicit stores (an array of vectors would make the JIT box them)
      store(o0, 0, rows, i0, heads, h, valueDim, t, out);
      store(o1, 1, rows, i0, heads, h, valueDim, t, out);
      store(o2, 2, rows, i0, heads, h, valueDim, t, out);
      store(o3, 3, rows, i0, heads, h, valueDim, t, out);
      store(o4, 4, rows, i0, heads, h, valueDim, t, out);
      store(o5, 5, rows, i0, heads, h, valueDim, t, out);
      store(o6, 6, rows, i0, heads, h, valueDim, t, out);
      store(o7, 7, rows, i0, heads, h, valueDim, t, out);
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

  /** out of query i0 + r, lane block t: the weighted values over the row's sum. */
  private void store(FloatVector weighted, int r, int rows, int i0, int heads, int h,
      int valueDim, int t, float[] out) {
    if (r < rows) {
      weighted.mul(1 / sums[r]).intoArray(out, ((i0 + r) * heads + h) * valueDim + t);
    }
  }
}
