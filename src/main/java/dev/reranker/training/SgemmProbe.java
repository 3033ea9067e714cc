package dev.reranker.training;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The machine's single-precision matrix-multiply rate through ND4J's BLAS, with the current thread
 * settings: the yardstick training throughput is compared against.
 */
final class SgemmProbe {
  private SgemmProbe() {}

  /** GFLOP/s of an n³ sgemm: the median of {@code repeats} runs after two warm-ups. */
  public static double gflops(int n, int repeats) {
    INDArray a = Nd4j.rand(DataType.FLOAT, n, n);
    INDArray b = Nd4j.rand(DataType.FLOAT, n, n);
    INDArray c = Nd4j.createUninitialized(DataType.FLOAT, new long[] {n, n}, 'c');
    double[] rates = new double[repeats];
    for (int i = -2; i < repeats; i++) {
      long start = System.nanoTime();
      Nd4j.gemm(a, b, c, false, false, 1, 0);
      double seconds = (System.nanoTime() - start) / 1e9;
      if (i >= 0) {
        rates[i] = 2.0 * n * n * n / seconds / 1e9;
      }
    }
    Arrays.sort(rates);
    return rates[repeats / 2];
  }
}
