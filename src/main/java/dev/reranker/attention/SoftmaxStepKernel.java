package dev.reranker.attention;

import java.util.Arrays;

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

  public SoftmaxStepKernel(int heads, int keyDim, int valueDim) {
    this.heads = Checks.positive("heads", heads);
    this.keyDim = Checks.positive("keyDim", keyDim);
    this.valueDim = Checks.positive("valueDim", valueDim);
    this.scale = (float) (1 / Math.sqrt(keyDim));
  }

  @Override
  public SoftmaxKvCache newState() {
    return new SoftmaxKvCache(heads, keyDim, valueDim);
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
      float[] keys = cache.keys(h);
      float[] values = cache.values(h);
      int qh = qOffset + h * keyDim;
      // logits and their max
      float max = Float.NEGATIVE_INFINITY;
      for (int j = 0; j < n; j++) {
        int row = j * keyDim;
        float dot = 0;
        for (int t = 0; t < keyDim; t++) {
          dot += q[qh + t] * keys[row + t];
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
      int oh = outOffset + h * valueDim;
      Arrays.fill(out, oh, oh + valueDim, 0f);
      for (int j = 0; j < n; j++) {
        float p = scores[j] / sum;
        int row = j * valueDim;
        for (int t = 0; t < valueDim; t++) {
          out[oh + t] += p * values[row + t];
        }
      }
    }
  }
}
