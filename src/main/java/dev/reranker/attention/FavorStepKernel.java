package dev.reranker.attention;

/**
 * One causal FAVOR+ step per head h, on plain arrays:
 * <pre>
 *   S'_h ← S'_h + φ(k_h) [v_h, 1]ᵀ                          (fold the new key first: i attends to j ≤ i)
 *   out_h = (φ(q_h)ᵀ S_h) / (φ(q_h)ᵀ z_h + δ)
 * </pre>
 * O(heads·m·(d + d_v)) whatever the history length. The same features and the same δ as the batched
 * {@link FavorAttention}, so folding a history event by event equals encoding it in one batch.
 *
 * <p>Holds scratch buffers: not thread-safe, one per thread.
 */
public final class FavorStepKernel implements StepKernel<FavorState> {

  /** δ of the attention denominator, the batched form's (other implementations use it too). */
  public static final double DENOMINATOR_EPSILON = CausalLinearAttention.DENOMINATOR_EPSILON;

  private final FeatureMap featureMap;
  private final int heads;
  private final int keyDim; // d
  private final int features; // m
  private final int valueDim; // d_v
  private final float[] queryFeatures; // (m)
  private final float[] keyFeatures; // (m)
  private final FloatKernels kernels;

  /** A kernel in this JVM's {@link FloatKernels#preferred() float kernels}. */
  public FavorStepKernel(FeatureMap featureMap, int heads, int valueDim) {
    this(featureMap, heads, valueDim, FloatKernels.preferred());
  }

  public FavorStepKernel(FeatureMap featureMap, int heads, int valueDim, FloatKernels kernels) {
    this.featureMap = Checks.notNull("featureMap", featureMap);
    this.heads = Checks.positive("heads", heads);
    this.valueDim = Checks.positive("valueDim", valueDim);
    this.keyDim = featureMap.inputDim();
    this.features = featureMap.features();
    this.queryFeatures = new float[features];
    this.keyFeatures = new float[features];
    this.kernels = Checks.notNull("kernels", kernels);
  }

  public FeatureMap featureMap() {
    return featureMap;
  }

  @Override
  public FavorState newState() {
    return new FavorState(heads, features, valueDim);
  }

  @Override
  public void step(FavorState state, float[] q, int qOffset, float[] k, int kOffset, float[] v,
      int vOffset, float[] out, int outOffset) {
    checkState(state);
    checkSpan("q", q, qOffset, heads * keyDim);
    checkSpan("k", k, kOffset, heads * keyDim);
    checkSpan("v", v, vOffset, heads * valueDim);
    checkSpan("out", out, outOffset, heads * valueDim);
    float[] s = state.data();
    int width = valueDim + 1;
    float delta = (float) CausalLinearAttention.DENOMINATOR_EPSILON;
    for (int h = 0; h < heads; h++) {
      featureMap.apply(k, kOffset + h * keyDim, keyFeatures, 0, FeatureMap.Role.KEY, kernels);
      featureMap.apply(q, qOffset + h * keyDim, queryFeatures, 0, FeatureMap.Role.QUERY, kernels);
      // S'_h += φ(k) [v, 1]ᵀ, then [num | den] = φ(q)ᵀ S'_h
      kernels.favorHeadStep(s, h * features * width, features, valueDim, keyFeatures,
          queryFeatures, v, vOffset + h * valueDim, out, outOffset + h * valueDim, delta);
    }
    state.advance();
  }

  /**
   * Encodes a whole sequence by stepping through it: for each of {@code length} positions, the
   * heads' q, k and v at {@code t·heads·d} ({@code t·heads·d_v} for v and out), the state folding
   * every position in turn (each head on its own core from 512 positions). The causal FAVOR+ encode on plain arrays, O(length·m·d): the same
   * output as the batched {@link FavorAttention} (tests: within 1e-4 over 2,500 positions), with
   * the state summed in float, so over very long sequences it drifts further from the batched
   * form's per-chunk double sums (≈ 1e-4 after 100,000 events).
   *
   * @param state the state to continue (a new one for a cold encode); advanced by length
   */
  public void encode(FavorState state, float[] q, float[] k, float[] v, int length, float[] out) {
    checkState(state);
    checkSpan("q", q, 0, length * heads * keyDim);
    checkSpan("k", k, 0, length * heads * keyDim);
    checkSpan("v", v, 0, length * heads * valueDim);
    checkSpan("out", out, 0, length * heads * valueDim);
    float[] s = state.data();
    int width = valueDim + 1;
    float delta = (float) CausalLinearAttention.DENOMINATOR_EPSILON;
    // heads are independent: each runs the very calls step() makes for it, in the same order, so
    // the result is the same bits whether the heads share a thread or not. From 512 positions
    // they run on the cores (the common pool and the caller), each with its own feature scratch.
    java.util.stream.IntStream range = java.util.stream.IntStream.range(0, heads);
    (length >= PARALLEL_HEADS_FROM ? range.parallel() : range).forEach(h -> {
      float[] keyFeatures = new float[features];
      float[] queryFeatures = new float[features];
      for (int t = 0; t < length; t++) {
        int qk = (t * heads + h) * keyDim;
        int vo = (t * heads + h) * valueDim;
        featureMap.apply(k, qk, keyFeatures, 0, FeatureMap.Role.KEY, kernels);
        featureMap.apply(q, qk, queryFeatures, 0, FeatureMap.Role.QUERY, kernels);
        kernels.favorHeadStep(s, h * features * width, features, valueDim, keyFeatures,
            queryFeatures, v, vo, out, vo, delta);
      }
    });
    for (int t = 0; t < length; t++) {
      state.advance();
    }
  }

  /** Positions from which {@link #encode} runs its heads in parallel. */
  static final int PARALLEL_HEADS_FROM = 512;

  private void checkState(FavorState state) {
    Checks.notNull("state", state);
    if (state.heads() != heads || state.features() != features || state.valueDim() != valueDim) {
      throw new IllegalArgumentException("state is (heads=" + state.heads() + ", m="
          + state.features() + ", d_v=" + state.valueDim() + "), this kernel needs (heads=" + heads
          + ", m=" + features + ", d_v=" + valueDim + ")");
    }
  }

  static void checkSpan(String name, float[] a, int offset, int length) {
    Checks.notNull(name, a);
    if (offset < 0 || offset + length > a.length) {
      throw new IllegalArgumentException(name + " must hold " + length + " floats from offset "
          + offset + ", has length " + a.length);
    }
  }
}
