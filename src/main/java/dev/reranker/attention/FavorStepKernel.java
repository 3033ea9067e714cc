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
