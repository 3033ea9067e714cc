package dev.reranker.gpu;

import java.util.List;

/**
 * A FAVOR+ sequential encoder's weights as the GPU encoder takes them: row-major float arrays
 * (x·W convention, W of shape (in, out)), named and shaped as the model's, with each layer's
 * feature-map scalars. Built by the model package from its plain weights; checked here.
 *
 * @param dim D; heads H; headDim D/H; features m; ffnDim F; items I
 * @param items (I, D); index (32, D); gaps (44, D); finalGain, finalBias (D)
 */
public record EncoderWeights(int dim, int heads, int features, int ffnDim, int itemCount,
    float[] items, float[] index, float[] gaps, List<Layer> layers, float[] finalGain,
    float[] finalBias, double layerNormEpsilon, double geluC, double geluA,
    double denominatorEpsilon) {

  /**
   * One block.
   *
   * @param projectionTransposed Wᵀ of the layer's FAVOR+ projection, (headDim, m) row-major
   */
  public record Layer(float[] ln1Gain, float[] ln1Bias, float[] wq, float[] wk, float[] wv,
      float[] wo, float[] bo, float[] ln2Gain, float[] ln2Bias, float[] w1, float[] b1,
      float[] w2, float[] b2, float[] projectionTransposed, FeatureConstants features) {}

  /**
   * The feature map's scalars (see {@code FeatureMap.Constants}): φ_i = outputScale·(exp(u_i −
   * ‖x̃‖²/2 − c) + ε), x̃ = inputScale·x, c the row maximum for queries and keyShift for keys; or
   * the ReLU form when {@code relu}.
   */
  public record FeatureConstants(boolean relu, double inputScale, double outputScale,
      double queryEpsilon, double keyEpsilon, double keyShift) {}

  public EncoderWeights {
    if (dim % heads != 0) {
      throw new IllegalArgumentException("dim " + dim + " is not a multiple of heads " + heads);
    }
    check("items", items, (long) itemCount * dim);
    check("index", index, 32L * dim);
    check("gaps", gaps, 44L * dim);
    check("finalGain", finalGain, dim);
    check("finalBias", finalBias, dim);
    int dh = dim / heads;
    for (Layer l : layers) {
      for (float[] v : List.of(l.ln1Gain, l.ln1Bias, l.bo, l.ln2Gain, l.ln2Bias, l.b2)) {
        check("layer vector", v, dim);
      }
      for (float[] m : List.of(l.wq, l.wk, l.wv, l.wo)) {
        check("layer matrix", m, (long) dim * dim);
      }
      check("w1", l.w1, (long) dim * ffnDim);
      check("b1", l.b1, ffnDim);
      check("w2", l.w2, (long) ffnDim * dim);
      check("projection", l.projectionTransposed, (long) dh * features);
    }
  }

  public int headDim() {
    return dim / heads;
  }

  /** Floats of one user's state: layers · heads · m · (headDim + 1). */
  public int stateFloats() {
    return layers.size() * heads * features * (headDim() + 1);
  }

  private static void check(String name, float[] a, long length) {
    if (a == null || a.length != length) {
      throw new IllegalArgumentException(name + " must hold " + length + " floats, has "
          + (a == null ? "none" : a.length));
    }
  }
}
