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
    return builder(items, arm).build();
  }

  /** A builder starting from the defaults above. */
  public static Builder builder(int items, Arm arm) {
    return new Builder(items, arm);
  }

  /** Named settings over the defaults; {@link #ffnDim} is 4·D unless set. */
  public static final class Builder {
    private int items;
    private Arm arm;
    private int dim = 64;
    private int layers = 2;
    private int heads = 2;
    private int ffnDim = -1; // 4·dim
    private FeatureMap.Kernel kernel = FeatureMap.Kernel.SOFTMAX;
    private int features = 64;
    private FavorProjection.RowNorms rowNorms = FavorProjection.RowNorms.CHI;
    private int chunk = 256;
    private double dropout = 0.3;
    private long seed = 42;

    private Builder(int items, Arm arm) {
      this.items = items;
      this.arm = arm;
    }

    public Builder items(int v) {
      items = v;
      return this;
    }

    public Builder arm(Arm v) {
      arm = v;
      return this;
    }

    public Builder dim(int v) {
      dim = v;
      return this;
    }

    public Builder layers(int v) {
      layers = v;
      return this;
    }

    public Builder heads(int v) {
      heads = v;
      return this;
    }

    public Builder ffnDim(int v) {
      ffnDim = v;
      return this;
    }

    public Builder kernel(FeatureMap.Kernel v) {
      kernel = v;
      return this;
    }

    public Builder features(int v) {
      features = v;
      return this;
    }

    public Builder rowNorms(FavorProjection.RowNorms v) {
      rowNorms = v;
      return this;
    }

    public Builder chunk(int v) {
      chunk = v;
      return this;
    }

    public Builder dropout(double v) {
      dropout = v;
      return this;
    }

    public Builder seed(long v) {
      seed = v;
      return this;
    }

    public ModelConfig build() {
      return new ModelConfig(items, dim, layers, heads, ffnDim < 0 ? 4 * dim : ffnDim, arm,
          kernel, features, rowNorms, chunk, dropout, seed);
    }
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
