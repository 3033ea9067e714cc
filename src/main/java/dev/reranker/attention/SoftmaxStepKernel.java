package dev.reranker.attention;

/**
 * One exact causal softmax step per head: append (k, v) to the KV cache, then
 * out = Σ_j softmax_j(qᵀk_j/√d) v_j over every cached position, max-shifted so no exp overflows.
 * O(heads·n·(d + d_v)) for a history of n events: the cost grows with the history.
 *
 * <p>Holds a score buffer that grows with the longest history seen: not thread-safe, one per thread.
 */
public final class SoftmaxStepKernel implements StepKernel<SoftmaxKvCache> {

  private final int heads;
  private final int keyDim;
  private final int valueDim;
  private final float scale;
  private float[] scores = new float[16];
  private final FloatKernels kernels;

  /** A kernel in this JVM's {@link FloatKernels#preferred() float kernels}. */
  public SoftmaxStepKernel(int heads, int keyDim, int valueDim) {
    this(heads, keyDim, valueDim, FloatKernels.preferred());
  }

  public SoftmaxStepKernel(int heads, int keyDim, int valueDim, FloatKernels kernels) {
    this.heads = Checks.positive("heads", heads);
    this.keyDim = Checks.positive("keyDim", keyDim);
    this.valueDim = Checks.positive("valueDim", valueDim);
    this.scale = (float) (1 / Math.sqrt(keyDim));
    this.kernels = Checks.notNull("kernels", kernels);
  }

  @Override
  public SoftmaxKvCache newState() {
    return new SoftmaxKvCache(heads, keyDim, valueDim);
  }

  /**
   * A cold encode of a whole sequence: appends every position's k and v to the empty {@code cache}
   * and writes exact causal softmax attention for every position to {@code out}, positions laid
   * out as in {@link FavorStepKernel#encode}. The same outputs as stepping through the sequence
   * (the vector kernels run it tiled: {@code SoftmaxTiledEncoder}).
   */
  public void encode(SoftmaxKvCache cache, float[] q, float[] k, float[] v, int length,
      float[] out) {
    Checks.notNull("cache", cache);
    if (cache.length() != 0) {
      throw new IllegalArgumentException("a cold encode needs an empty cache, this one holds "
          + cache.length() + " positions");
    }
    FavorStepKernel.checkSpan("q", q, 0, length * heads * keyDim);
    FavorStepKernel.checkSpan("k", k, 0, length * heads * keyDim);
    FavorStepKernel.checkSpan("v", v, 0, length * heads * valueDim);
    FavorStepKernel.checkSpan("out", out, 0, length * heads * valueDim);
    for (int t = 0; t < length; t++) {
      cache.append(k, t * heads * keyDim, v, t * heads * valueDim);
    }
    kernels.softmaxCausalEncode(q, k, v, length, heads, keyDim, valueDim, scale, out);
  }

  @Override
  public void step(SoftmaxKvCache cache, float[] q, int qOffset, float[] k, int kOffset, float[] v,
      int vOffset, float[] out, int outOffset) {
    Checks.notNull("cache", cache);
    if (cache.heads() != heads || cache.keyDim() != keyDim || cache.valueDim() != valueDim) {
      throw new IllegalArgumentException("cache is (heads=" + cache.heads() + ", d="
          + cache.keyDim() + ", d_v=" + cache.valueDim() + "), this kernel needs (heads=" + heads
          + ", d=" + keyDim + ", d_v=" + valueDim + ")");
    }
    FavorStepKernel.checkSpan("q", q, qOffset, heads * keyDim);
    FavorStepKernel.checkSpan("k", k, kOffset, heads * keyDim);
    FavorStepKernel.checkSpan("v", v, vOffset, heads * valueDim);
    FavorStepKernel.checkSpan("out", out, outOffset, heads * valueDim);
    cache.append(k, kOffset, v, vOffset);
    int n = cache.length();
    if (scores.length < n) {
      scores = new float[Math.max(n, 2 * scores.length)];
    }
    for (int h = 0; h < heads; h++) {
      kernels.softmaxHeadStep(cache.keys(h), cache.values(h), n, keyDim, valueDim, q,
          qOffset + h * keyDim, scale, scores, out, outOffset + h * valueDim);
    }
  }
}
