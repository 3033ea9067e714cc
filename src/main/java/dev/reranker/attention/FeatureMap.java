package dev.reranker.attention;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A positive random feature map φ: R^d → R^m with φ(q)ᵀφ(k) ≈ K(q, k) for an attention kernel K.
 *
 * <p>Two forms of every operation, computing the same function:
 * <ul>
 *   <li>batched on ND4J, rank-3 {@code (batch, length, d) → (batch, length, m)}, with a hand-written
 *       backward pass (training);</li>
 *   <li>one vector on plain float arrays (the incremental step, where ND4J's fixed cost per op
 *       would exceed the whole computation).</li>
 * </ul>
 * Queries and keys may be treated differently ({@link Role}): the softmax kernel normalises each
 * query row by its own maximum, which cancels in attention, but must scale all keys alike.
 *
 * <p>Implementations are immutable and thread-safe.
 */
public interface FeatureMap {

  /** Whether the vectors mapped are queries or keys. */
  enum Role {
    QUERY,
    KEY
  }

  /** The kernel a feature map approximates. */
  enum Kernel {
    /** FAVOR+ positive features for the softmax kernel exp(qᵀk/√d). */
    SOFTMAX,
    /** The generalised ReLU kernel of the Performer paper. */
    RELU
  }

  /** The FAVOR+ positive softmax-kernel features with ε = {@value SoftmaxKernelFeatureMap#DEFAULT_EPSILON}. */
  static FeatureMap softmaxKernel(FavorProjection projection) {
    return new SoftmaxKernelFeatureMap(projection, SoftmaxKernelFeatureMap.DEFAULT_EPSILON);
  }

  /** The ReLU kernel features φ(x) = m^(-1/2)·(ReLU(W x̃) + {@value ReluKernelFeatureMap#EPSILON}). */
  static FeatureMap reluKernel(FavorProjection projection) {
    return new ReluKernelFeatureMap(projection);
  }

  /** The feature map of {@code kernel} over {@code projection}. */
  static FeatureMap of(Kernel kernel, FavorProjection projection) {
    Checks.notNull("kernel", kernel);
    return switch (kernel) {
      case SOFTMAX -> softmaxKernel(projection);
      case RELU -> reluKernel(projection);
    };
  }

  Kernel kernel();

  FavorProjection projection();

  /**
   * The scalars of the one-vector map, for implementations elsewhere (the GPU kernels): with
   * x̃ = inputScale·x and u = W x̃,
   * <ul>
   *   <li>{@link Kernel#SOFTMAX}: u_i − ‖x̃‖²/2 − c, c the row maximum for queries and
   *   {@code keyShift} for keys, then φ_i = outputScale·(exp(·) + ε_role);</li>
   *   <li>{@link Kernel#RELU}: φ_i = outputScale·(max(u_i, 0) + ε) for both roles.</li>
   * </ul>
   */
  record Constants(Kernel kernel, double inputScale, double outputScale, double queryEpsilon,
      double keyEpsilon, double keyShift) {}

  /** This map's {@link Constants}. */
  Constants constants();

  /** m. */
  default int features() {
    return projection().features();
  }

  /** d. */
  default int inputDim() {
    return projection().dim();
  }

  /**
   * Maps a batch of sequences.
   *
   * @param x (batch, length, d), FLOAT or DOUBLE
   * @return φ(x), (batch, length, m), a new C-order array of x's type
   */
  INDArray apply(INDArray x, Role role);

  /**
   * The gradient of a loss with respect to x, given its gradient with respect to φ(x).
   *
   * @param x the input of {@link #apply}
   * @param phi what {@link #apply}{@code (x, role)} returned
   * @param gradPhi ∂loss/∂φ, the shape of phi
   * @return ∂loss/∂x, the shape of x
   */
  INDArray backward(INDArray x, INDArray phi, INDArray gradPhi, Role role);

  /**
   * Maps one vector on plain arrays: {@code out[outOffset .. outOffset+m) = φ(x[xOffset .. xOffset+d))}.
   * Allocation-free; the arithmetic runs in {@code kernels}.
   */
  void apply(float[] x, int xOffset, float[] out, int outOffset, Role role, FloatKernels kernels);

  /** {@link #apply(float[], int, float[], int, Role, FloatKernels)} in this JVM's kernels. */
  default void apply(float[] x, int xOffset, float[] out, int outOffset, Role role) {
    apply(x, xOffset, out, outOffset, role, FloatKernels.preferred());
  }
}
