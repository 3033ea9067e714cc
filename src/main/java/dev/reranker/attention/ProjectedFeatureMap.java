package dev.reranker.attention;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What both kernels share: x̃ = d^(-1/4)·x, the projection W x̃, and the m^(-1/2) normalisation.
 * Holds Wᵀ as ND4J arrays (one per data type, built once) so batched calls only run gemms.
 */
abstract sealed class ProjectedFeatureMap implements FeatureMap
    permits SoftmaxKernelFeatureMap, ReluKernelFeatureMap {

  final FavorProjection projection;
  final int m;
  final int d;
  /** d^(-1/4): x̃ = d^(-1/4)·x, so that x̃_qᵀx̃_k = qᵀk/√d, the softmax attention logit. */
  final double inputScale;
  /** m^(-1/2), so φ(q)ᵀφ(k) averages over features. */
  final double outputScale;
  /** Wᵀ row-major, (d, m): the single-vector projection runs as d vectorisable axpy loops. */
  private final float[] wTransposed;
  /**
   * Wᵀ as ND4J arrays, built on the first batched call: the one-vector path must run where ND4J's
   * native backend is absent (the GPU device check brings no natives).
   */
  private volatile INDArray projectionTransposedFloat; // (d, m)
  private volatile INDArray projectionTransposedDouble; // (d, m)

  ProjectedFeatureMap(FavorProjection projection) {
    this.projection = Checks.notNull("projection", projection);
    this.m = projection.features();
    this.d = projection.dim();
    this.inputScale = Math.pow(d, -0.25);
    this.outputScale = 1 / Math.sqrt(m);
    this.wTransposed = transpose(projection.weights(), m, d);
  }

  @Override
  public final FavorProjection projection() {
    return projection;
  }

  /** Wᵀ, (d, m), in the given type. */
  final INDArray projectionTransposed(DataType type) {
    if (type == DataType.DOUBLE) {
      INDArray a = projectionTransposedDouble;
      if (a == null) { // a benign race: both threads build the same immutable array
        projectionTransposedDouble = a = detached(DataType.DOUBLE);
      }
      return a;
    }
    INDArray a = projectionTransposedFloat;
    if (a == null) {
      projectionTransposedFloat = a = detached(DataType.FLOAT);
    }
    return a;
  }

  /** Wᵀ outside any workspace: the first batched call may come inside one, which would reclaim it. */
  private INDArray detached(DataType type) {
    try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
      return projection.transposed(type);
    }
  }

  /** (rows, cols) row-major → (cols, rows) row-major. */
  private static float[] transpose(float[] a, int rows, int cols) {
    float[] t = new float[a.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        t[c * rows + r] = a[r * cols + c];
      }
    }
    return t;
  }

  /** x (batch, length, d) → x̃ = d^(-1/4)·x as a new (batch·length, d) array. */
  final INDArray scaledRows(INDArray x) {
    Checks.rank3("x", x, -1, -1, d);
    long rows = x.size(0) * x.size(1);
    return x.reshape('c', rows, d).mul(inputScale);
  }

  /** x̃ Wᵀ: (rows, d) → (rows, m), into a new C-order array through BLAS gemm. */
  final INDArray project(INDArray scaledRows) {
    INDArray out = Nd4j.createUninitialized(scaledRows.dataType(), new long[] {scaledRows.size(0), m},
        'c');
    Nd4j.gemm(scaledRows, projectionTransposed(scaledRows.dataType()), out, false, false, 1, 0);
    return out;
  }

  /** (rows, m) → (batch, length, m) in the shape of x. */
  static INDArray unflatten(INDArray rows, INDArray x, int width) {
    return rows.reshape('c', x.size(0), x.size(1), width);
  }

  static INDArray flatten(INDArray a) {
    return a.reshape('c', a.size(0) * a.size(1), a.size(2));
  }

  /** Plain-Java W x̃ for one vector: out[outOffset + i] = w_iᵀ x̃ for i < m; returns ‖x̃‖². */
  final float projectOne(float[] x, int xOffset, float[] out, int outOffset,
      FloatKernels kernels) {
    return kernels.project(x, xOffset, d, (float) inputScale, wTransposed, m, out, outOffset);
  }

  final void checkOne(float[] x, int xOffset, float[] out, int outOffset) {
    Checks.notNull("x", x);
    Checks.notNull("out", out);
    if (xOffset < 0 || xOffset + d > x.length) {
      throw new IllegalArgumentException("x must hold d=" + d + " floats from offset " + xOffset
          + ", has length " + x.length);
    }
    if (outOffset < 0 || outOffset + m > out.length) {
      throw new IllegalArgumentException("out must hold m=" + m + " floats from offset "
          + outOffset + ", has length " + out.length);
    }
  }
}
