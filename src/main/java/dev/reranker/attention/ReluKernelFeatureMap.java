package dev.reranker.attention;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The generalised ReLU kernel of the Performer paper (§2.2, "FAVOR+ with f = ReLU"):
 * <pre>
 *   φ(x)_i = m^(-1/2) · (ReLU(w_iᵀ x̃) + ε),   x̃ = d^(-1/4)·x,   ε = {@value #EPSILON}
 * </pre>
 * Not an estimate of softmax but a kernel of its own; cheap, bounded by ‖w_i‖·‖x̃‖, never overflows,
 * and the same for queries and keys (no stabiliser). ε = 1e-3 (the performer-pytorch default) keeps
 * every feature positive, so every denominator is at least n·ε²/… &gt; 0.
 */
final class ReluKernelFeatureMap extends ProjectedFeatureMap {

  /** Added to every ReLU feature so that features, hence attention denominators, stay positive. */
  static final double EPSILON = 1e-3;

  ReluKernelFeatureMap(FavorProjection projection) {
    super(projection);
  }

  @Override
  public Kernel kernel() {
    return Kernel.RELU;
  }

  @Override
  public Constants constants() {
    return new Constants(Kernel.RELU, inputScale, outputScale, EPSILON, EPSILON, 0);
  }

  @Override
  public INDArray apply(INDArray x, Role role) {
    Checks.notNull("role", role);
    INDArray u = project(scaledRows(x)); // (rows, m): w_iᵀ x̃
    Transforms.relu(u, false);
    u.addi(EPSILON).muli(outputScale);
    return unflatten(u, x, m);
  }

  @Override
  public INDArray backward(INDArray x, INDArray phi, INDArray gradPhi, Role role) {
    Checks.notNull("role", role);
    INDArray xs = scaledRows(x);
    Checks.rank3("phi", phi, x.size(0), x.size(1), m);
    Checks.rank3("gradPhi", gradPhi, x.size(0), x.size(1), m);
    Checks.sameType(x, phi, gradPhi);
    INDArray active = project(xs).gt(0.0).castTo(x.dataType()); // ReLU'(w_iᵀx̃)
    INDArray gradU = flatten(gradPhi).mul(active).muli(outputScale);
    INDArray gradXs = Nd4j.createUninitialized(x.dataType(), new long[] {xs.size(0), d}, 'c');
    Nd4j.gemm(gradU, projectionTransposed(x.dataType()), gradXs, false, true, 1, 0);
    return unflatten(gradXs.muli(inputScale), x, d);
  }

  @Override
  public void apply(float[] x, int xOffset, float[] out, int outOffset, Role role,
      FloatKernels kernels) {
    checkOne(x, xOffset, out, outOffset);
    Checks.notNull("role", role);
    projectOne(x, xOffset, out, outOffset, kernels);
    float eps = (float) EPSILON;
    float scale = (float) outputScale;
    for (int i = 0; i < m; i++) {
      out[outOffset + i] = (Math.max(out[outOffset + i], 0f) + eps) * scale;
    }
  }

  @Override
  public String toString() {
    return "ReluKernelFeatureMap[" + projection + "]";
  }
}
