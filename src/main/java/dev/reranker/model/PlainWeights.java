package dev.reranker.model;

import dev.reranker.attention.FeatureMap;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A model's weights copied once into row-major float arrays: what the one-event path ({@link
 * IncrementalEncoder}) and scoring read, shared by every encoder of that model. Immutable. The
 * same parameters as {@link ModelWeights}, typed the same way (D the width, F the FFN's hidden
 * width, I the items).
 */
public final class PlainWeights {

  /** One block, as {@link ModelWeights.Layer}. */
  record Layer(
      float[] ln1Gain, // (D)
      float[] ln1Bias, // (D)
      float[] wq, // (D, D)
      float[] wk, // (D, D)
      float[] wv, // (D, D)
      float[] wo, // (D, D)
      float[] bo, // (D)
      float[] ln2Gain, // (D)
      float[] ln2Bias, // (D)
      float[] w1, // (D, F)
      float[] b1, // (F)
      float[] w2, // (F, D)
      float[] b2, // (D)
      FeatureMap featureMap) { // the layer's FAVOR+ feature map; null for the softmax arm

    static Layer of(ModelWeights.Layer w, FeatureMap featureMap) {
      return new Layer(flat(w.ln1Gain()), flat(w.ln1Bias()), flat(w.wq()), flat(w.wk()),
          flat(w.wv()), flat(w.wo()), flat(w.bo()), flat(w.ln2Gain()), flat(w.ln2Bias()),
          flat(w.w1()), flat(w.b1()), flat(w.w2()), flat(w.b2()), featureMap);
    }
  }

  final ModelConfig config;
  final String modelVersion;
  final float[] items; // (I, D)
  final float[] index; // (32, D)
  final float[] gaps; // (44, D)
  final Layer[] layers;
  final float[] finalGain; // (D)
  final float[] finalBias; // (D)

  public PlainWeights(ModelConfig config, ModelWeights weights, String modelVersion) {
    this.config = config;
    this.modelVersion = modelVersion;
    ModelWeights w = weights.castTo(DataType.FLOAT);
    items = flat(w.itemEmbedding());
    index = flat(w.indexEmbedding());
    gaps = flat(w.gapEmbedding());
    layers = new Layer[config.layers()];
    for (int l = 0; l < layers.length; l++) {
      layers[l] = Layer.of(w.layer(l), weights.projections().isEmpty() ? null
          : FeatureMap.of(config.kernel(), weights.projections().get(l)));
    }
    finalGain = flat(w.finalGain());
    finalBias = flat(w.finalBias());
  }

  private static float[] flat(INDArray a) {
    return a.dup('c').data().asFloat();
  }

  public ModelConfig config() {
    return config;
  }

  public String modelVersion() {
    return modelVersion;
  }

  /** An item's score for a user: the dot product of the user vector and the item embedding. */
  public float score(float[] userVector, int item) {
    int d = config.dim();
    int row = item * d;
    float s = 0;
    for (int j = 0; j < d; j++) {
      s += userVector[j] * items[row + j];
    }
    return s;
  }
}
