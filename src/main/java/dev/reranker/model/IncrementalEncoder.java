package dev.reranker.model;

import dev.reranker.attention.AttentionState;
import dev.reranker.attention.CausalAttention;
import dev.reranker.attention.FavorAttention;
import dev.reranker.attention.FavorState;
import dev.reranker.attention.FavorStepKernel;
import dev.reranker.attention.FeatureMap;
import dev.reranker.attention.SoftmaxAttention;
import dev.reranker.attention.SoftmaxKvCache;
import dev.reranker.attention.SoftmaxStepKernel;
import dev.reranker.attention.StepKernel;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Folds one event at a time into a user's {@link EncoderState}, on plain float arrays: the same
 * computation as {@link SequenceModel}'s forward pass restricted to the newest position, which
 * depends only on earlier positions through each layer's attention state. Folding a history event
 * by event therefore equals encoding it in one batch ({@link #encode}); tests hold the two to 1e-4.
 *
 * <p>Per event and layer: LN₁ → q, k, v (three D × D products) → one attention step (FAVOR+:
 * O(m·d) whatever the history length; softmax: O(history)) → W_o → residual → LN₂ → GELU FFN →
 * residual; then the final LN gives the user vector. The weights are copied once into row-major
 * float arrays; products run as axpy loops the JIT vectorises.
 *
 * <p>Holds scratch buffers: <b>not thread-safe</b>, one per thread (cheap: the weights are shared).
 */
public final class IncrementalEncoder {

  /** A model's weights as plain arrays, shared by all encoders of that model. Immutable. */
  public static final class Compiled {
    final ModelConfig config;
    final String modelVersion;
    final float[] items; // (I, D)
    final float[] index; // (32, D)
    final float[] gaps; // (44, D)
    final float[][] ln1Gain;
    final float[][] ln1Bias;
    final float[][] wq; // [layer] (D, D)
    final float[][] wk;
    final float[][] wv;
    final float[][] wo;
    final float[][] bo;
    final float[][] ln2Gain;
    final float[][] ln2Bias;
    final float[][] w1; // [layer] (D, F)
    final float[][] b1;
    final float[][] w2; // [layer] (F, D)
    final float[][] b2;
    final float[] finalGain;
    final float[] finalBias;
    final List<FeatureMap> featureMaps; // per layer (performer)

    public Compiled(ModelConfig config, ModelWeights weights, String modelVersion) {
      this.config = config;
      this.modelVersion = modelVersion;
      ModelWeights w = weights.castTo(DataType.FLOAT);
      items = flat(w.get(ModelWeights.ITEM_EMBEDDING));
      index = flat(w.get(ModelWeights.INDEX_EMBEDDING));
      gaps = flat(w.get(ModelWeights.GAP_EMBEDDING));
      int layers = config.layers();
      ln1Gain = perLayer(w, layers, "ln1.gain");
      ln1Bias = perLayer(w, layers, "ln1.bias");
      wq = perLayer(w, layers, "attn.wq");
      wk = perLayer(w, layers, "attn.wk");
      wv = perLayer(w, layers, "attn.wv");
      wo = perLayer(w, layers, "attn.wo");
      bo = perLayer(w, layers, "attn.bo");
      ln2Gain = perLayer(w, layers, "ln2.gain");
      ln2Bias = perLayer(w, layers, "ln2.bias");
      w1 = perLayer(w, layers, "ffn.w1");
      b1 = perLayer(w, layers, "ffn.b1");
      w2 = perLayer(w, layers, "ffn.w2");
      b2 = perLayer(w, layers, "ffn.b2");
      finalGain = flat(w.get("final.ln.gain"));
      finalBias = flat(w.get("final.ln.bias"));
      featureMaps = weights.projections().stream()
          .map(p -> FeatureMap.of(config.kernel(), p)).toList();
    }

    private static float[][] perLayer(ModelWeights w, int layers, String part) {
      float[][] out = new float[layers][];
      for (int l = 0; l < layers; l++) {
        out[l] = flat(w.layer(l, part));
      }
      return out;
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

  private final Compiled model;
  private final ModelConfig c;
  private final StepKernel<? extends AttentionState>[] kernels;
  // scratch, (D) or (F)
  private final float[] x;
  private final float[] normed;
  private final float[] q;
  private final float[] k;
  private final float[] v;
  private final float[] attended;
  private final float[] hidden;

  @SuppressWarnings("unchecked")
  public IncrementalEncoder(Compiled model) {
    this.model = model;
    this.c = model.config;
    int d = c.dim();
    kernels = new StepKernel[c.layers()];
    for (int l = 0; l < c.layers(); l++) {
      kernels[l] = c.arm() == Arm.PERFORMER
          ? new FavorStepKernel(model.featureMaps.get(l), c.heads(), c.headDim())
          : new SoftmaxStepKernel(c.heads(), c.headDim(), c.headDim());
    }
    x = new float[d];
    normed = new float[d];
    q = new float[d];
    k = new float[d];
    v = new float[d];
    attended = new float[d];
    hidden = new float[c.ffnDim()];
  }

  public Compiled model() {
    return model;
  }

  /** A state with no events: position 0, zero user vector. */
  public EncoderState newState() {
    AttentionState[] layers = new AttentionState[c.layers()];
    for (int l = 0; l < layers.length; l++) {
      layers[l] = kernels[l].newState();
    }
    return new EncoderState(c.arm(), model.modelVersion, layers, new float[c.dim()], 0,
        OrderSignal.NO_PREVIOUS);
  }

  /**
   * A state with no events that continues a history at {@code firstPosition}, after an event at
   * {@code previousTimestamp} ({@link OrderSignal#NO_PREVIOUS} at a history's start): where the
   * softmax arm's window of the last W events starts ({@code Batch.Window.lastEvents}).
   */
  public EncoderState newWindowState(long firstPosition, long previousTimestamp) {
    if (firstPosition < 0) {
      throw new IllegalArgumentException("firstPosition must be ≥ 0, got " + firstPosition);
    }
    EncoderState state = newState();
    state.replace(state.layersView(), state.userVectorView(), firstPosition, previousTimestamp);
    return state;
  }

  /**
   * Folds one event.
   *
   * @param item the item's index in the model (0 ≤ item &lt; I)
   * @param timestamp epoch ms, or {@code Interaction.NO_TIMESTAMP}
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  public void fold(EncoderState state, int item, long timestamp) {
    if (!state.modelVersion().equals(model.modelVersion) || state.arm() != c.arm()) {
      throw new IllegalArgumentException("state belongs to model " + state.modelVersion() + " ("
          + state.arm().wireName() + "), this encoder is " + model.modelVersion + " ("
          + c.arm().wireName() + ")");
    }
    if (item < 0 || item >= c.items()) {
      throw new IllegalArgumentException("item index " + item + " outside [0, " + c.items() + ")");
    }
    int d = c.dim();
    int f = c.ffnDim();
    // embedding + order signal
    int indexRow = OrderSignal.indexBucket(state.position()) * d;
    int gapRow = OrderSignal.gapBucket(state.lastTimestamp(), timestamp) * d;
    for (int j = 0; j < d; j++) {
      x[j] = model.items[item * d + j] + model.index[indexRow + j] + model.gaps[gapRow + j];
    }
    for (int l = 0; l < c.layers(); l++) {
      // attention sub-block
      layerNorm(x, model.ln1Gain[l], model.ln1Bias[l], normed);
      product(normed, model.wq[l], d, d, q, null);
      product(normed, model.wk[l], d, d, k, null);
      product(normed, model.wv[l], d, d, v, null);
      ((StepKernel) kernels[l]).step(state.layer(l), q, k, v, attended);
      product(attended, model.wo[l], d, d, normed, model.bo[l]);
      for (int j = 0; j < d; j++) {
        x[j] += normed[j];
      }
      // feed-forward sub-block
      layerNorm(x, model.ln2Gain[l], model.ln2Bias[l], normed);
      product(normed, model.w1[l], d, f, hidden, model.b1[l]);
      for (int j = 0; j < f; j++) {
        hidden[j] = gelu(hidden[j]);
      }
      product(hidden, model.w2[l], f, d, normed, model.b2[l]);
      for (int j = 0; j < d; j++) {
        x[j] += normed[j];
      }
    }
    layerNorm(x, model.finalGain, model.finalBias, state.userVectorView());
    state.advance(timestamp);
  }

  /**
   * Encodes a whole history in one batched forward pass (ND4J) and returns its state: for FAVOR+
   * each layer's final [S | z], for softmax each layer's keys and values. Equal to folding the same
   * events one by one (within float rounding).
   */
  public static EncoderState encode(SequenceModel batched, String modelVersion, int[] items,
      long[] timestamps) {
    ModelConfig config = batched.config();
    Batch batch = Batch.of(List.of(new Batch.Window(items, timestamps, 0,
        OrderSignal.NO_PREVIOUS)));
    SequenceModel.Forward f = batched.forward(batch, null);
    AttentionState[] layers = new AttentionState[config.layers()];
    List<CausalAttention.Forward> attention = f.attention();
    for (int l = 0; l < layers.length; l++) {
      CausalAttention.Forward a = attention.get(l);
      layers[l] = a instanceof FavorAttention.FavorForward favor
          ? FavorState.fromArray(favor.finalState(), items.length)
          : SoftmaxKvCache.of(((SoftmaxAttention.SoftmaxForward) a).keys(),
              ((SoftmaxAttention.SoftmaxForward) a).values());
    }
    float[] user = f.userVectors().castTo(DataType.FLOAT).dup('c').data().asFloat();
    return new EncoderState(config.arm(), modelVersion, layers, user, items.length,
        timestamps[timestamps.length - 1]);
  }

  /** out = x·W (+ bias) for x (in), W (in, out) row-major: an axpy per input. */
  private static void product(float[] in, float[] w, int rows, int cols, float[] out,
      float[] bias) {
    if (bias == null) {
      java.util.Arrays.fill(out, 0, cols, 0f);
    } else {
      System.arraycopy(bias, 0, out, 0, cols);
    }
    for (int i = 0; i < rows; i++) {
      float xi = in[i];
      int row = i * cols;
      for (int j = 0; j < cols; j++) {
        out[j] += xi * w[row + j];
      }
    }
  }

  /** The batched {@link Ops#layerNorm} on one vector (two-pass mean and variance, same ε). */
  private static void layerNorm(float[] in, float[] gain, float[] bias, float[] out) {
    int d = in.length;
    float mean = 0;
    for (int j = 0; j < d; j++) {
      mean += in[j];
    }
    mean /= d;
    float variance = 0;
    for (int j = 0; j < d; j++) {
      float centered = in[j] - mean;
      variance += centered * centered;
    }
    variance /= d;
    float inverseStd = (float) (1 / Math.sqrt(variance + Ops.LAYER_NORM_EPSILON));
    for (int j = 0; j < d; j++) {
      out[j] = (in[j] - mean) * inverseStd * gain[j] + bias[j];
    }
  }

  /** The batched {@link Ops#gelu}: tanh form. */
  private static float gelu(float x) {
    double inner = Ops.GELU_C * (x + Ops.GELU_A * x * x * x);
    return (float) (0.5 * x * (1 + Math.tanh(inner)));
  }
}
