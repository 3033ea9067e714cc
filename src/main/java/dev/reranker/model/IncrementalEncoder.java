package dev.reranker.model;

import dev.reranker.attention.AttentionState;
import dev.reranker.attention.CausalAttention;
import dev.reranker.attention.FavorAttention;
import dev.reranker.attention.FavorState;
import dev.reranker.attention.FavorStepKernel;
import dev.reranker.attention.FloatKernels;
import dev.reranker.attention.ScalarFloatKernels;
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
 * float arrays; products, features, GELU and the attention step run in {@link FloatKernels} (the
 * Vector API's lanes where the JVM has the module, else the scalar reference). {@link #foldBlock}
 * folds one event into each of many users' states, stage by stage across a block of users, to the
 * same bits as folding each alone: the batched fold's path.
 *
 * <p>Holds scratch buffers: <b>not thread-safe</b>, one per thread (cheap: the weights are shared).
 */
public final class IncrementalEncoder {

  private final PlainWeights model;
  private final ModelConfig c;
  private final StepKernel<? extends AttentionState>[] kernels;
  private final FloatKernels arithmetic;
  // scratch of a block of users, one row per user (a single fold is a block of one)
  private final float[][] blockX;
  private final float[][] blockNormed;
  private final float[][] blockQ;
  private final float[][] blockK;
  private final float[][] blockV;
  private final float[][] blockAttended;
  private final float[][] blockHidden;
  private final EncoderState[] oneState = new EncoderState[1];
  private final int[] oneItem = new int[1];
  private final long[] oneTimestamp = new long[1];
  /** Where {@link AttentionState#readAhead} sums go, so that the reads are kept. */
  private float readAheadSink;

  /**
   * Users folded together by {@link #foldBlock}: each weight matrix is applied to this many users
   * in turn, so it is read from L1 for all but the first (the demo model's largest matrix is 16
   * KB, the whole model 0.1 MB: the single fold streams it from L2 on every event).
   */
  public static final int BLOCK = 16;

  /** An encoder in this JVM's {@link FloatKernels#preferred() float kernels}. */
  public IncrementalEncoder(PlainWeights model) {
    this(model, FloatKernels.preferred());
  }

  /** An encoder whose arithmetic runs in {@code arithmetic} (tests hold the fast to the reference). */
  @SuppressWarnings("unchecked")
  public IncrementalEncoder(PlainWeights model, FloatKernels arithmetic) {
    this.model = model;
    this.arithmetic = java.util.Objects.requireNonNull(arithmetic, "arithmetic");
    this.c = model.config;
    int d = c.dim();
    kernels = new StepKernel[c.layers()];
    for (int l = 0; l < c.layers(); l++) {
      kernels[l] = c.arm() == Arm.PERFORMER
          ? new FavorStepKernel(model.layers[l].featureMap(), c.heads(), c.headDim(), arithmetic)
          : new SoftmaxStepKernel(c.heads(), c.headDim(), c.headDim(), arithmetic);
    }
    blockX = new float[BLOCK][d];
    blockNormed = new float[BLOCK][d];
    blockQ = new float[BLOCK][d];
    blockK = new float[BLOCK][d];
    blockV = new float[BLOCK][d];
    blockAttended = new float[BLOCK][d];
    blockHidden = new float[BLOCK][c.ffnDim()];
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
  public void fold(EncoderState state, int item, long timestamp) {
    check(state, item);
    oneState[0] = state;
    oneItem[0] = item;
    oneTimestamp[0] = timestamp;
    try {
      foldUpToBlock(oneState, oneItem, oneTimestamp, 0, 1);
    } finally {
      oneState[0] = null; // the encoder outlives the fold: it must not keep the state alive
    }
  }

  private void check(EncoderState state, int item) {
    if (!state.modelVersion().equals(model.modelVersion) || state.arm() != c.arm()) {
      throw new IllegalArgumentException("state belongs to model " + state.modelVersion() + " ("
          + state.arm().wireName() + "), this encoder is " + model.modelVersion + " ("
          + c.arm().wireName() + ")");
    }
    if (item < 0 || item >= c.items()) {
      throw new IllegalArgumentException("item index " + item + " outside [0, " + c.items() + ")");
    }
  }

  /**
   * Folds one event into each of {@code count} users' states, from {@code from} in the arrays:
   * for each state exactly what {@link #fold} does, to the bit ({@link #fold} is a block of one:
   * each user's kernel calls are the same, on the same inputs, in the same order), but stage by
   * stage across the users, at most {@link #BLOCK} at a time: each weight matrix serves the whole
   * block while it is in L1. The states must be distinct; every one is checked before any is
   * changed.
   */
  public void foldBlock(EncoderState[] states, int[] items, long[] timestamps, int from,
      int count) {
    for (int u = from; u < from + count; u++) {
      check(states[u], items[u]);
    }
    for (int start = from; start < from + count; start += BLOCK) {
      int n = Math.min(BLOCK, from + count - start);
      foldUpToBlock(states, items, timestamps, start, n);
    }
  }

  /**
   * Folds each state's events in their order: round r folds the r-th event of every state that has
   * one, through {@link #foldBlock}. The same states as folding each user's events one by one with
   * {@link #fold}, to the bit; the states must be distinct.
   *
   * @param states the users' states
   * @param items each state's events (item indices), in order; the same length as {@code states}
   * @param timestamps each state's events' timestamps
   */
  public void foldEach(List<EncoderState> states, List<int[]> items, List<long[]> timestamps) {
    int users = states.size();
    if (items.size() != users || timestamps.size() != users) {
      throw new IllegalArgumentException(users + " states, " + items.size() + " item lists and "
          + timestamps.size() + " timestamp lists");
    }
    // users by their number of events, most first: round r folds a prefix of them, so one long
    // catch-up among thousands of one-event users costs its own rounds, not rounds × users
    long[] byLength = new long[users];
    for (int u = 0; u < users; u++) {
      byLength[u] = ((long) items.get(u).length << 32) | u;
    }
    java.util.Arrays.sort(byLength);
    int[] order = new int[users];
    for (int i = 0; i < users; i++) {
      order[i] = (int) byLength[users - 1 - i];
    }
    EncoderState[] round = new EncoderState[users];
    int[] roundItems = new int[users];
    long[] roundTimes = new long[users];
    int active = users;
    for (int r = 0; ; r++) {
      while (active > 0 && items.get(order[active - 1]).length <= r) {
        active--;
      }
      if (active == 0) {
        return;
      }
      for (int i = 0; i < active; i++) {
        int u = order[i];
        round[i] = states.get(u);
        roundItems[i] = items.get(u)[r];
        roundTimes[i] = timestamps.get(u)[r];
      }
      foldBlock(round, roundItems, roundTimes, 0, active);
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private void foldUpToBlock(EncoderState[] states, int[] items, long[] timestamps, int from,
      int n) {
    int d = c.dim();
    int f = c.ffnDim();
    for (int b = 0; b < n; b++) {
      EncoderState state = states[from + b];
      int item = items[from + b];
      int indexRow = OrderSignal.indexBucket(state.position()) * d;
      int gapRow = OrderSignal.gapBucket(state.lastTimestamp(), timestamps[from + b]) * d;
      float[] xb = blockX[b];
      for (int j = 0; j < d; j++) {
        xb[j] = model.items[item * d + j] + model.index[indexRow + j] + model.gaps[gapRow + j];
      }
    }
    // the block's states, which a batch of many users finds in no cache, fetched together: their
    // lines in flight at once instead of one state's at a time as the steps reach them (2,000
    // users, one event each, 2-core AMD EPYC: 1.34 → 1.14 µs per event)
    float touched = 0;
    for (int b = 0; n > 1 && b < n; b++) { // one state alone: its fold streams through it anyway
      for (int l = 0; l < c.layers(); l++) {
        touched += states[from + b].layer(l).readAhead();
      }
    }
    readAheadSink = touched;
    for (int l = 0; l < c.layers(); l++) {
      PlainWeights.Layer layer = model.layers[l];
      PlainWeights.LayerRows rows = model.rows[l];
      for (int b = 0; b < n; b++) {
        layerNorm(blockX[b], layer.ln1Gain(), layer.ln1Bias(), blockNormed[b]);
      }
      for (int b = 0; b < n; b++) {
        arithmetic.vectorMatrix(blockNormed[b], rows.wq(), blockQ[b], d, null);
      }
      for (int b = 0; b < n; b++) {
        arithmetic.vectorMatrix(blockNormed[b], rows.wk(), blockK[b], d, null);
      }
      for (int b = 0; b < n; b++) {
        arithmetic.vectorMatrix(blockNormed[b], rows.wv(), blockV[b], d, null);
      }
      for (int b = 0; b < n; b++) {
        ((StepKernel) kernels[l]).step(states[from + b].layer(l), blockQ[b], blockK[b],
            blockV[b], blockAttended[b]);
      }
      for (int b = 0; b < n; b++) {
        float[] xb = blockX[b];
        float[] out = blockNormed[b];
        arithmetic.vectorMatrix(blockAttended[b], rows.wo(), out, d, layer.bo());
        for (int j = 0; j < d; j++) {
          xb[j] += out[j];
        }
      }
      for (int b = 0; b < n; b++) {
        layerNorm(blockX[b], layer.ln2Gain(), layer.ln2Bias(), blockNormed[b]);
      }
      for (int b = 0; b < n; b++) {
        arithmetic.vectorMatrix(blockNormed[b], rows.w1(), blockHidden[b], f, layer.b1());
        arithmetic.gelu(blockHidden[b], f);
      }
      for (int b = 0; b < n; b++) {
        float[] xb = blockX[b];
        float[] out = blockNormed[b];
        arithmetic.vectorMatrix(blockHidden[b], rows.w2(), out, d, layer.b2());
        for (int j = 0; j < d; j++) {
          xb[j] += out[j];
        }
      }
    }
    for (int b = 0; b < n; b++) {
      EncoderState state = states[from + b];
      layerNorm(blockX[b], model.finalGain, model.finalBias, state.userVectorView());
      state.advance(timestamps[from + b]);
    }
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

  /** The batched {@link Ops#layerNorm} on one vector (two-pass mean and variance, same ε). */
  private void layerNorm(float[] in, float[] gain, float[] bias, float[] out) {
    arithmetic.layerNorm(in, gain, bias, out, Ops.LAYER_NORM_EPSILON);
  }

  /** The batched {@link Ops#gelu} (tanh form) on one float: the reference kernels'. */
  static float gelu(float x) {
    return ScalarFloatKernels.gelu(x);
  }
}
