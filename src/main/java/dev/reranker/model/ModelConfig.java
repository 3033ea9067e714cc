package dev.reranker.model;

import dev.reranker.attention.FavorProjection;
import dev.reranker.attention.FeatureMap;

/**
 * The architecture of a sequential recommender: SASRec-style blocks (Kang &amp; McAuley 2018) with
 * pre-LayerNorm, whose attention is causal FAVOR+ or exact causal softmax. Everything but the
 * attention is shared by the two arms.
 *
 * @param items I, the number of items (rows of the item embedding, tied with output scoring)
 * @param dim D, the model width; 64 by default (SASRec used 50 on ML-1M)
 * @param layers blocks; 2 by default, as in SASRec
 * @param heads attention heads; D must be a multiple; 2 by default
 * @param ffnDim F, the hidden width of the position-wise GELU feed-forward layer; 4·D by default
 * @param arm {@link Arm#PERFORMER} or {@link Arm#SOFTMAX}
 * @param kernel the FAVOR+ kernel (performer arm)
 * @param features m, FAVOR+ random features per head (performer arm); 64 by default (≈ d_h·ln d_h)
 * @param rowNorms FAVOR+ projection row norms (performer arm)
 * @param chunk causal FAVOR+ chunk length in batched passes (a speed/memory trade-off only)
 * @param dropout the dropout rate in training (embeddings, attention output, FFN); 0.3 by default
 *     (ml-latest-small's 610 users overfit quickly)
 * @param seed the seed of the initial weights and the FAVOR+ projections
 */
public record ModelConfig(int items, int dim, int layers, int heads, int ffnDim, Arm arm,
    FeatureMap.Kernel kernel, int features, FavorProjection.RowNorms rowNorms, int chunk,
    double dropout, long seed) {

  public ModelConfig {
    positive("items", items);
    positive("dim", dim);
    positive("layers", layers);
    positive("heads", heads);
    positive("ffnDim", ffnDim);
    positive("features", features);
    positive("chunk", chunk);
    if (dim % heads != 0) {
      throw new IllegalArgumentException("dim (" + dim + ") must be a multiple of heads (" + heads
          + ")");
    }
    if (arm == null || kernel == null || rowNorms == null) {
      throw new IllegalArgumentException("arm, kernel and rowNorms must be set");
    }
    if (!(dropout >= 0 && dropout < 1)) {
      throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
    }
  }

  /** The defaults above for a catalogue of {@code items} items. */
  public static ModelConfig defaults(int items, Arm arm) {
    return new ModelConfig(items, 64, 2, 2, 256, arm, FeatureMap.Kernel.SOFTMAX, 64,
        FavorProjection.RowNorms.CHI, 256, 0.3, 42);
  }

  public int headDim() {
    return dim / heads;
  }

  public ModelConfig withItems(int n) {
    return new ModelConfig(n, dim, layers, heads, ffnDim, arm, kernel, features, rowNorms, chunk,
        dropout, seed);
  }

  public ModelConfig withArm(Arm a) {
    return new ModelConfig(items, dim, layers, heads, ffnDim, a, kernel, features, rowNorms, chunk,
        dropout, seed);
  }

  private static void positive(String name, int v) {
    if (v < 1) {
      throw new IllegalArgumentException(name + " must be ≥ 1, got " + v);
    }
  }
}
