package dev.reranker.model;

import dev.reranker.attention.AttentionState;
import dev.reranker.attention.CausalAttention;
import dev.reranker.attention.FavorAttention;
import dev.reranker.attention.FavorState;
import dev.reranker.attention.FavorStepKernel;
import dev.reranker.attention.SoftmaxAttention;
import dev.reranker.attention.SoftmaxKvCache;
import dev.reranker.attention.SoftmaxStepKernel;
import dev.reranker.attention.StepKernel;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;

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

  private final PlainWeights model;
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
  public IncrementalEncoder(PlainWeights model) {
    this.model = model;
    this.c = model.config;
    int d = c.dim();
    kernels = new StepKernel[c.layers()];
    for (int l = 0; l < c.layers(); l++) {
      kernels[l] = c.arm() == Arm.PERFORMER
          ? new FavorStepKernel(model.layers[l].featureMap(), c.heads(), c.headDim())
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

  public PlainWeights model() {
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
      PlainWeights.Layer layer = model.layers[l];
      PlainWeights.LayerRows rows = model.rows[l];
      // attention sub-block
      layerNorm(x, layer.ln1Gain(), layer.ln1Bias(), normed);
      product(normed, rows.wq(), q, d, null);
      product(normed, rows.wk(), k, d, null);
      product(normed, rows.wv(), v, d, null);
      ((StepKernel) kernels[l]).step(state.layer(l), q, k, v, attended);
      product(attended, rows.wo(), normed, d, layer.bo());
      for (int j = 0; j < d; j++) {
        x[j] += normed[j];
      }
      // feed-forward sub-block
      layerNorm(x, layer.ln2Gain(), layer.ln2Bias(), normed);
      product(normed, rows.w1(), hidden, f, layer.b1());
      for (int j = 0; j < f; j++) {
        hidden[j] = gelu(hidden[j]);
      }
      product(hidden, rows.w2(), normed, d, layer.b2());
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

  /**
   * out = x·W (+ bias) for x (in), W (in, out) as one array per row ({@link
   * PlainWeights.LayerRows}): four rows per pass over the output, so each output vector is loaded
   * and stored once per four inputs, and every array is indexed alike (C2 vectorises it).
   */
  private static void product(float[] in, float[][] w, float[] out, int cols, float[] bias) {
    if (bias == null) {
      java.util.Arrays.fill(out, 0, cols, 0f);
    } else {
      System.arraycopy(bias, 0, out, 0, cols);
    }
    int rows = w.length;
    int i = 0;
    for (; i + 3 < rows; i += 4) {
      float x0 = in[i];
      float x1 = in[i + 1];
      float x2 = in[i + 2];
      float x3 = in[i + 3];
      float[] w0 = w[i];
      float[] w1 = w[i + 1];
      float[] w2 = w[i + 2];
      float[] w3 = w[i + 3];
      for (int j = 0; j < cols; j++) {
        out[j] += x0 * w0[j] + x1 * w1[j] + x2 * w2[j] + x3 * w3[j];
      }
    }
    for (; i < rows; i++) {
      float xi = in[i];
      float[] wi = w[i];
      for (int j = 0; j < cols; j++) {
        out[j] += xi * wi[j];
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

  /**
   * The batched {@link Ops#gelu} (tanh form) through one exp: 0.5·x·(1 + tanh(u)) = x / (1 + e^(−2u))
   * exactly, and {@code Math.exp} costs a third of {@code Math.tanh} here (4 against 14 ns, 256
   * calls per event in the demo model). In double, so the two forms differ by rounding only; for
   * u → −∞ the exp overflows to +∞ and the quotient is the limit, −0.
   */
  static float gelu(float x) {
    double inner = Ops.GELU_C * (x + Ops.GELU_A * x * x * x);
    return (float) (x / (1 + Math.exp(-2 * inner)));
  }
}
