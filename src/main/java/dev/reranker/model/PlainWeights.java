package dev.reranker.model;

import dev.reranker.attention.FavorProjection;
import dev.reranker.attention.FeatureMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A model's weights copied once into row-major float arrays: what the one-event path ({@link
 * IncrementalEncoder}) and scoring read, shared by every encoder of that model. Immutable. The
 * same parameters as {@link ModelWeights}, typed the same way (D the width, F the FFN's hidden
 * width, I the items). Built from a loaded {@link ModelWeights}, or straight from an artifact's
 * tensors ({@link ModelArtifacts#loadPlain}) where ND4J's native backend is absent.
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

    static Layer of(Map<String, float[]> t, int l, FeatureMap featureMap) {
      return new Layer(t.get(ModelWeights.p(l, "ln1.gain")), t.get(ModelWeights.p(l, "ln1.bias")),
          t.get(ModelWeights.p(l, "attn.wq")), t.get(ModelWeights.p(l, "attn.wk")),
          t.get(ModelWeights.p(l, "attn.wv")), t.get(ModelWeights.p(l, "attn.wo")),
          t.get(ModelWeights.p(l, "attn.bo")), t.get(ModelWeights.p(l, "ln2.gain")),
          t.get(ModelWeights.p(l, "ln2.bias")), t.get(ModelWeights.p(l, "ffn.w1")),
          t.get(ModelWeights.p(l, "ffn.b1")), t.get(ModelWeights.p(l, "ffn.w2")),
          t.get(ModelWeights.p(l, "ffn.b2")), featureMap);
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
  /** Each layer's matrices as arrays of rows, for {@link IncrementalEncoder}'s products. */
  final LayerRows[] rows;

  /**
   * A layer's matrices as one array per row, (in)[out]: a row-at-a-time product over them
   * ({@code out[j] += x_i · row_i[j]}) indexes both arrays alike, which C2 vectorises; over the
   * flat row-major array ({@code w[i·cols + j]}) it cannot rule out that the output overlaps the
   * weights at an offset and runs it scalar (measured: 3.6 against 25–35 GFLOP/s with 4 rows per
   * pass, d = 64). The same numbers as the flat arrays, held twice (≈ 0.4 MB for the default model).
   */
  record LayerRows(float[][] wq, float[][] wk, float[][] wv, float[][] wo, float[][] w1,
      float[][] w2) {
    static LayerRows of(Layer l, int d, int f) {
      return new LayerRows(split(l.wq(), d, d), split(l.wk(), d, d), split(l.wv(), d, d),
          split(l.wo(), d, d), split(l.w1(), d, f), split(l.w2(), f, d));
    }
  }

  /** (rows, cols) row-major → one array per row. */
  static float[][] split(float[] flat, int rows, int cols) {
    float[][] out = new float[rows][];
    for (int i = 0; i < rows; i++) {
      out[i] = java.util.Arrays.copyOfRange(flat, i * cols, (i + 1) * cols);
    }
    return out;
  }

  public PlainWeights(ModelConfig config, ModelWeights weights, String modelVersion) {
    this(config, flat(weights.castTo(DataType.FLOAT).arrays()), weights.projections(),
        modelVersion);
  }

  /**
   * From named row-major tensors (the names of {@link ModelWeights}) and the per-layer projections
   * (empty for the softmax arm); no ND4J.
   */
  PlainWeights(ModelConfig config, Map<String, float[]> tensors, List<FavorProjection> projections,
      String modelVersion) {
    this.config = config;
    this.modelVersion = modelVersion;
    items = tensors.get(ModelWeights.ITEM_EMBEDDING);
    index = tensors.get(ModelWeights.INDEX_EMBEDDING);
    gaps = tensors.get(ModelWeights.GAP_EMBEDDING);
    layers = new Layer[config.layers()];
    for (int l = 0; l < layers.length; l++) {
      layers[l] = Layer.of(tensors, l, projections.isEmpty() ? null
          : FeatureMap.of(config.kernel(), projections.get(l)));
    }
    finalGain = tensors.get("final.ln.gain");
    finalBias = tensors.get("final.ln.bias");
    rows = new LayerRows[layers.length];
    for (int l = 0; l < layers.length; l++) {
      rows[l] = LayerRows.of(layers[l], config.dim(), config.ffnDim());
    }
  }

  private static Map<String, float[]> flat(Map<String, INDArray> arrays) {
    Map<String, float[]> out = new java.util.LinkedHashMap<>();
    arrays.forEach((name, a) -> out.put(name, a.dup('c').data().asFloat()));
    return out;
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
    return KERNELS.dot(userVector, 0, items, item * d, d);
  }

  /** This JVM's float kernels: a rerank scores hundreds of candidates through them. */
  private static final dev.reranker.attention.FloatKernels KERNELS =
      dev.reranker.attention.FloatKernels.preferred();
}
