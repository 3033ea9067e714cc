package dev.reranker.model;

import dev.reranker.attention.FavorProjection;
import dev.reranker.attention.GaussianSampler;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The trainable parameters, by name, in a fixed order, plus the fixed FAVOR+ projections (one per
 * layer, shared by its heads; drawn from the config's seed, saved with the model, never trained or
 * redrawn). Shapes:
 * <pre>
 *   item_embedding            (I, D)   tied: input embedding and output scoring
 *   index_embedding           (32, D)  log₂ position buckets ({@link OrderSignal})
 *   gap_embedding             (44, D)  log₂ time-gap buckets
 *   layer{l}.ln1.gain/bias    (1, D)
 *   layer{l}.attn.wq/wk/wv/wo (D, D)   x·W; heads are column blocks of width D/H
 *   layer{l}.attn.bo          (1, D)
 *   layer{l}.ln2.gain/bias    (1, D)
 *   layer{l}.ffn.w1 (D, F), b1 (1, F), w2 (F, D), b2 (1, D)
 *   final.ln.gain/bias        (1, D)
 * </pre>
 */
public final class ModelWeights {

  public static final String ITEM_EMBEDDING = "item_embedding";
  public static final String INDEX_EMBEDDING = "index_embedding";
  public static final String GAP_EMBEDDING = "gap_embedding";

  /**
   * One block's parameters, typed (the same arrays as the named ones: writing through either is
   * writing both). Shapes as above: D the width, F the FFN's hidden width.
   */
  public record Layer(
      INDArray ln1Gain, // (1, D)
      INDArray ln1Bias, // (1, D)
      INDArray wq, // (D, D)
      INDArray wk, // (D, D)
      INDArray wv, // (D, D)
      INDArray wo, // (D, D)
      INDArray bo, // (1, D)
      INDArray ln2Gain, // (1, D)
      INDArray ln2Bias, // (1, D)
      INDArray w1, // (D, F)
      INDArray b1, // (1, F)
      INDArray w2, // (F, D)
      INDArray b2) { // (1, D)

    static Layer of(Map<String, INDArray> params, int l) {
      return new Layer(params.get(p(l, "ln1.gain")), params.get(p(l, "ln1.bias")),
          params.get(p(l, "attn.wq")), params.get(p(l, "attn.wk")), params.get(p(l, "attn.wv")),
          params.get(p(l, "attn.wo")), params.get(p(l, "attn.bo")),
          params.get(p(l, "ln2.gain")), params.get(p(l, "ln2.bias")),
          params.get(p(l, "ffn.w1")), params.get(p(l, "ffn.b1")), params.get(p(l, "ffn.w2")),
          params.get(p(l, "ffn.b2")));
    }
  }

  private final Map<String, INDArray> params;
  private final List<FavorProjection> projections; // per layer; empty for the softmax arm
  private final List<Layer> layers;

  ModelWeights(Map<String, INDArray> params, List<FavorProjection> projections) {
    this.params = params;
    this.projections = projections;
    List<Layer> typed = new ArrayList<>();
    for (int l = 0; params.containsKey(p(l, "ln1.gain")); l++) {
      typed.add(Layer.of(params, l));
    }
    this.layers = List.copyOf(typed);
  }

  /** (I, D), tied: the input embedding and the output scoring. */
  public INDArray itemEmbedding() {
    return get(ITEM_EMBEDDING);
  }

  /** (32, D): log₂ position buckets. */
  public INDArray indexEmbedding() {
    return get(INDEX_EMBEDDING);
  }

  /** (44, D): log₂ time-gap buckets. */
  public INDArray gapEmbedding() {
    return get(GAP_EMBEDDING);
  }

  /** (1, D): the final LayerNorm's gain. */
  public INDArray finalGain() {
    return get("final.ln.gain");
  }

  /** (1, D): the final LayerNorm's bias. */
  public INDArray finalBias() {
    return get("final.ln.bias");
  }

  /** Block {@code l}'s parameters. */
  public Layer layer(int l) {
    return layers.get(l);
  }

  /** The blocks' parameters, in order. */
  public List<Layer> layers() {
    return layers;
  }

  /** Layer parameter names. */
  static String p(int layer, String part) {
    return "layer" + layer + "." + part;
  }

  /**
   * Seeded initial weights: embeddings N(0, 1/D); linear maps N(0, 1/fan_in), the two that write
   * into the residual stream (attention output, FFN out) further scaled by 1/√(2·layers) so the
   * stream's variance does not grow with depth (GPT-2); biases 0; LayerNorm gains 1.
   */
  public static ModelWeights initialize(ModelConfig c) {
    GaussianSampler g = new GaussianSampler(c.seed());
    Map<String, INDArray> p = new LinkedHashMap<>();
    int d = c.dim();
    double embedding = 1 / Math.sqrt(d);
    double residual = 1 / Math.sqrt(2.0 * c.layers());
    p.put(ITEM_EMBEDDING, gaussian(g, embedding, c.items(), d));
    p.put(INDEX_EMBEDDING, gaussian(g, embedding, OrderSignal.INDEX_BUCKETS, d));
    p.put(GAP_EMBEDDING, gaussian(g, embedding, OrderSignal.GAP_BUCKETS, d));
    for (int l = 0; l < c.layers(); l++) {
      p.put(p(l, "ln1.gain"), Nd4j.ones(DataType.FLOAT, 1, d));
      p.put(p(l, "ln1.bias"), Nd4j.zeros(DataType.FLOAT, 1, d));
      p.put(p(l, "attn.wq"), gaussian(g, 1 / Math.sqrt(d), d, d));
      p.put(p(l, "attn.wk"), gaussian(g, 1 / Math.sqrt(d), d, d));
      p.put(p(l, "attn.wv"), gaussian(g, 1 / Math.sqrt(d), d, d));
      p.put(p(l, "attn.wo"), gaussian(g, residual / Math.sqrt(d), d, d));
      p.put(p(l, "attn.bo"), Nd4j.zeros(DataType.FLOAT, 1, d));
      p.put(p(l, "ln2.gain"), Nd4j.ones(DataType.FLOAT, 1, d));
      p.put(p(l, "ln2.bias"), Nd4j.zeros(DataType.FLOAT, 1, d));
      p.put(p(l, "ffn.w1"), gaussian(g, 1 / Math.sqrt(d), d, c.ffnDim()));
      p.put(p(l, "ffn.b1"), Nd4j.zeros(DataType.FLOAT, 1, c.ffnDim()));
      p.put(p(l, "ffn.w2"), gaussian(g, residual / Math.sqrt(c.ffnDim()), c.ffnDim(), d));
      p.put(p(l, "ffn.b2"), Nd4j.zeros(DataType.FLOAT, 1, d));
    }
    p.put("final.ln.gain", Nd4j.ones(DataType.FLOAT, 1, d));
    p.put("final.ln.bias", Nd4j.zeros(DataType.FLOAT, 1, d));
    return new ModelWeights(p, drawProjections(c));
  }

  /** One projection per layer, seeds derived from the config seed (performer arm only). */
  static List<FavorProjection> drawProjections(ModelConfig c) {
    List<FavorProjection> out = new ArrayList<>();
    if (c.arm() == Arm.PERFORMER) {
      for (int l = 0; l < c.layers(); l++) {
        out.add(FavorProjection.draw(c.features(), c.headDim(), c.seed() * 1_000_003L + 7919L * l,
            FavorProjection.Sampling.ORTHOGONAL, c.rowNorms()));
      }
    }
    return out;
  }

  private static INDArray gaussian(GaussianSampler g, double std, int rows, int cols) {
    float[] data = new float[rows * cols];
    g.fill(data, std);
    return Nd4j.create(data, new long[] {rows, cols}, 'c');
  }

  /** Weights from loaded arrays (an artifact); checked against the config. */
  public static ModelWeights of(ModelConfig c, Map<String, INDArray> arrays,
      List<FavorProjection> projections) {
    ModelWeights expected = initialize(c);
    for (Map.Entry<String, INDArray> e : expected.params.entrySet()) {
      INDArray a = arrays.get(e.getKey());
      if (a == null) {
        throw new IllegalArgumentException("missing weight '" + e.getKey() + "'");
      }
      if (!java.util.Arrays.equals(a.shape(), e.getValue().shape())) {
        throw new IllegalArgumentException("weight '" + e.getKey() + "' has shape "
            + java.util.Arrays.toString(a.shape()) + ", the config needs "
            + java.util.Arrays.toString(e.getValue().shape()));
      }
    }
    if (arrays.size() != expected.params.size()) {
      throw new IllegalArgumentException("unexpected weights: " + arrays.keySet().stream()
          .filter(k -> !expected.params.containsKey(k)).toList());
    }
    if (projections.size() != expected.projections.size()) {
      throw new IllegalArgumentException("expected " + expected.projections.size()
          + " FAVOR+ projections, got " + projections.size());
    }
    Map<String, INDArray> ordered = new LinkedHashMap<>();
    for (String name : expected.params.keySet()) {
      ordered.put(name, arrays.get(name));
    }
    return new ModelWeights(ordered, List.copyOf(projections));
  }

  public INDArray get(String name) {
    INDArray a = params.get(name);
    if (a == null) {
      throw new IllegalArgumentException("no weight '" + name + "'");
    }
    return a;
  }

  /** Names and arrays in the fixed order (unmodifiable). */
  public Map<String, INDArray> arrays() {
    return Collections.unmodifiableMap(params);
  }

  /** The FAVOR+ projection of each layer (empty for the softmax arm). */
  public List<FavorProjection> projections() {
    return projections;
  }

  public long parameterCount() {
    return params.values().stream().mapToLong(INDArray::length).sum();
  }

  /** A deep copy in the given type (DOUBLE for gradient checks). */
  public ModelWeights castTo(DataType type) {
    Map<String, INDArray> out = new LinkedHashMap<>();
    params.forEach((k, v) -> out.put(k, v.castTo(type).dup('c')));
    return new ModelWeights(out, projections);
  }

  public ModelWeights copy() {
    return castTo(params.values().iterator().next().dataType());
  }

  /** Zeros of the same names and shapes (a gradient accumulator). */
  public ModelWeights zerosLike() {
    Map<String, INDArray> out = new LinkedHashMap<>();
    params.forEach((k, v) -> out.put(k, Nd4j.zeros(v.dataType(), v.shape())));
    return new ModelWeights(out, projections);
  }

  /** Copies every value of {@code other} into these arrays. */
  public void assign(ModelWeights other) {
    params.forEach((k, v) -> v.assign(other.get(k)));
  }

  public DataType dataType() {
    return params.values().iterator().next().dataType();
  }
}
