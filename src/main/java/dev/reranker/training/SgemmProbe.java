package dev.reranker.training;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The machine's single-precision matrix-multiply rate through ND4J's BLAS, with the current thread
 * settings: the yardstick training throughput is compared against.
 */
final class SgemmProbe {
  private SgemmProbe() {}

  /**
   * The summed GFLOP/s of {@code threads} n³ sgemms running at once, one per thread (each the
   * median of its runs): what the machine offers the data-parallel trainer's workers. One thread
   * is {@link #gflops(int, int)}.
   */
  public static double gflops(int n, int repeats, int threads) {
    if (threads == 1) {
      return gflops(n, repeats);
    }
    java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(threads);
    double[] rates = new double[threads];
    List<Thread> running = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int index = t;
      Thread thread = new Thread(() -> {
        try {
          start.await();
        } catch (InterruptedException | java.util.concurrent.BrokenBarrierException e) {
          Thread.currentThread().interrupt();
          return;
        }
        rates[index] = gflops(n, repeats);
      }, "reranker-sgemm-probe-" + t);
      thread.setDaemon(true);
      thread.start();
      running.add(thread);
    }
    for (Thread thread : running) {
      try {
        thread.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while probing sgemm", e);
      }
    }
    double sum = 0;
    for (double r : rates) {
      sum += r;
    }
    return sum;
  }

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
