package dev.reranker.attention;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Test helpers: seeded random inputs and conversions between ND4J and plain arrays. */
final class Arrays3 {
  private Arrays3() {}

  /** (batch, length, dim) with N(0, scale²) entries, drawn from a seed. */
  static INDArray gaussian(long seed, double scale, DataType type, int batch, int length, int dim) {
    GaussianSampler g = new GaussianSampler(seed);
    double[] data = new double[batch * length * dim];
    for (int i = 0; i < data.length; i++) {
      data[i] = scale * g.next();
    }
    return Nd4j.create(data, new long[] {batch, length, dim}, 'c').castTo(type);
  }

  /** Sequence b of a rank-3 array as double[length][dim]. */
  static double[][] sequence(INDArray a, int b) {
    int length = (int) a.size(1);
    int dim = (int) a.size(2);
    double[][] out = new double[length][dim];
    for (int i = 0; i < length; i++) {
      for (int j = 0; j < dim; j++) {
        out[i][j] = a.getDouble(b, i, j);
      }
    }
    return out;
  }

  /** Row-major float copy of a rank-3 array. */
  static float[] floats(INDArray a) {
    return a.dup('c').castTo(DataType.FLOAT).data().asFloat();
  }

  static double maxAbsDiff(double[][] a, double[][] b) {
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a[i].length; j++) {
        max = Math.max(max, Math.abs(a[i][j] - b[i][j]));
      }
    }
    return max;
  }

  static double maxAbsDiff(INDArray a, INDArray b) {
    return a.castTo(DataType.DOUBLE).sub(b.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
  }

  /**
   * Event-major per-head layout for step kernels: position t's row of (heads, length, dim) as
   * heads × dim floats, head-major.
   */
  static float[] event(float[] headMajor, int heads, int length, int dim, int t, float[] out) {
    for (int h = 0; h < heads; h++) {
      System.arraycopy(headMajor, (h * length + t) * dim, out, h * dim, dim);
    }
    return out;
  }
}
