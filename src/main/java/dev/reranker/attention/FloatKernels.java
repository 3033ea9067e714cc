package dev.reranker.attention;

/**
 * The plain-array arithmetic of the fold and of the cold encodes: vector × matrix products, the
 * random-feature projection and the shifted exponential of the features, LayerNorm, GELU, one
 * head's FAVOR+ step, one head's softmax step, a whole causal softmax encode and the candidates'
 * dot products. Two implementations behind this one interface, chosen once at run time:
 * <ul>
 *   <li>{@link ScalarFloatKernels}, the reference: plain loops, {@code Math.exp} in double. Runs on
 *   every JVM.</li>
 *   <li>{@code VectorFloatKernels}: the same arithmetic in the Vector API's lanes
 *   ({@code jdk.incubator.vector}; 16 floats a lane on AVX-512, 8 on AVX2), with its own
 *   {@code exp} in lanes (within 1 ulp of {@code Math.exp}'s float) and fused multiply-adds,
 *   built only from operations that give the same bits compiled or not. The fold's loops are 16
 *   to 128 long, too short for the JIT's own vectoriser, which leaves most of them scalar (a
 *   head's step: 370 ns scalar, 47 ns in lanes on a 2-core AMD EPYC). Tests hold it to the
 *   reference.</li>
 * </ul>
 *
 * <p>Why a choice at run time: an incubator module is resolved only when the JVM is started with
 * {@code --add-modules jdk.incubator.vector}, and a jar's manifest cannot add a module. The build's
 * test JVMs, the container image and the benchmark commands pass the flag; a plain
 * {@code java -jar} runs the reference kernels, correct and slower. {@code -Dreranker.kernels=scalar}
 * forces the reference where the module is present.
 *
 * <p>Results differ between the two by float rounding only (fused multiply-adds, float instead of
 * double {@code exp}): relative differences of order 1e-6 in a folded state, far inside the 1e-4 the
 * incremental and batched encodes are held to.
 */
public interface FloatKernels {

  /** The system property that forces a choice: {@code scalar} or {@code auto} (the default). */
  String PROPERTY = "reranker.kernels";

  /** The kernels this JVM runs: the Vector API's where its module is present, else the reference. */
  static FloatKernels preferred() {
    return FloatKernelsChoice.PREFERRED;
  }

  /** The reference kernels. */
  static FloatKernels scalar() {
    return ScalarFloatKernels.INSTANCE;
  }

  /** Why {@link #preferred()} is what it is, one line for logs and benchmark reports. */
  static String choiceReason() {
    return FloatKernelsChoice.REASON;
  }

  /** {@code scalar} or {@code vector-<lanes>x32} (the Vector API with its lane count). */
  String name();

  /** Σ_j a[aOffset + j]·b[bOffset + j] for j &lt; n: an item's score for a user. */
  float dot(float[] a, int aOffset, float[] b, int bOffset, int n);

  /**
   * out[0, cols) = bias + Σ_i in[i]·w[i][0, cols) for a weight matrix held as one array per input
   * row (bias null: zero).
   */
  void vectorMatrix(float[] in, float[][] w, float[] out, int cols, float[] bias);

  /**
   * The random-feature projection of one vector: with x̃_j = scale·x[xOffset + j] for j &lt; d,
   * out[outOffset + i] = Σ_j x̃_j·wTransposed[j·m + i] for i &lt; m; returns ‖x̃‖².
   */
  float project(float[] x, int xOffset, int d, float scale, float[] wTransposed, int m, float[] out,
      int outOffset);

  /** max over i &lt; n of (a[offset + i] − shift). */
  float maxMinus(float[] a, int offset, int n, float shift);

  /**
   * In place, for i &lt; n: a[offset + i] = (exp((a[offset + i] − shift1) − shift2) + epsilon)·scale,
   * the positive random features of {@link SoftmaxKernelFeatureMap} (shift1 = ‖x̃‖²/2, shift2 the
   * stabiliser).
   */
  void expFeatures(float[] a, int offset, int n, float shift1, float shift2, double epsilon,
      double scale);

  /**
   * LayerNorm of one vector: out = (in − mean)/√(variance + epsilon)·gain + bias over
   * in[0, in.length), mean and (biased) variance in two passes.
   */
  void layerNorm(float[] in, float[] gain, float[] bias, float[] out, double epsilon);

  /** In place, for i &lt; n: a[i] = GELU(a[i]), the tanh form, as x / (1 + e^(−2u)). */
  void gelu(float[] a, int n);

  /**
   * One head of a causal FAVOR+ step on a state of {@code features} rows of {@code valueDim + 1}
   * floats from {@code base} ([S | z]): first S += φ(k)[v, 1]ᵀ, then
   * out = (φ(q)ᵀS) / (φ(q)ᵀz + delta), reading the updated rows.
   */
  void favorHeadStep(float[] state, int base, int features, int valueDim, float[] keyFeatures,
      float[] queryFeatures, float[] v, int vOffset, float[] out, int outOffset, float delta);

  /**
   * One head of an exact softmax step over {@code n} cached positions (keys (n, keyDim) and values
   * (n, valueDim) row-major): s_j = scale·qᵀk_j, e_j = exp(s_j − max s), out = Σ_j (e_j / Σe)·v_j.
   * {@code scores} is scratch of at least n floats.
   */
  void softmaxHeadStep(float[] keys, float[] values, int n, int keyDim, int valueDim, float[] q,
      int qOffset, float scale, float[] scores, float[] out, int outOffset);

  /**
   * Exact causal softmax attention over a whole sequence: q and k position-major (length,
   * heads·keyDim), v and out (length, heads·valueDim); position i of each head attends to
   * positions 0 … i with weights softmax(scale·qᵀk).
   */
  void softmaxCausalEncode(float[] q, float[] k, float[] v, int length, int heads, int keyDim,
      int valueDim, float scale, float[] out);
}
