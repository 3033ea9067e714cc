package dev.reranker.attention;

import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * How many threads one ND4J operation may use: libnd4j's own pool, its OpenMP pool and OpenBLAS.
 *
 * <p>The engine's default is 1. Its parallelism comes from independent work (users, Kafka
 * partitions, requests, training batches run one after another on large arrays), and on small
 * machines ND4J's idle worker threads spin: measured on a 2-core VM, a FAVOR+ encode of 256 events
 * took 6.4 ms with 2 threads per op and 3.3 ms with 1, a 4,096-event softmax encode 263 ms and
 * 125 ms, with the system time of the whole run falling from 4.7 s to 0.9 s. Large single gemms do
 * gain from more threads (a 512³ sgemm: 199 against 121 GFLOP/s), so training on a big machine may
 * want more: set {@value #PROPERTY} (or the environment variable {@value #ENVIRONMENT}).
 */
public final class Nd4jThreads {

  /** System property naming the thread count. */
  public static final String PROPERTY = "reranker.nd4j.threads";
  /** Environment variable naming the thread count (the property wins). */
  public static final String ENVIRONMENT = "RERANKER_ND4J_THREADS";

  private static volatile int applied;

  private Nd4jThreads() {}

  /** Applies the configured count (property, then environment, then 1) and returns it. */
  public static int applyConfigured() {
    String value = System.getProperty(PROPERTY, System.getenv(ENVIRONMENT));
    int threads = 1;
    if (value != null && !value.isBlank()) {
      try {
        threads = Integer.parseInt(value.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(PROPERTY + " must be an integer ≥ 1, got '" + value
            + "'");
      }
    }
    use(threads);
    return threads;
  }

  /** Lets every ND4J operation use at most {@code threads} threads. */
  public static void use(int threads) {
    Checks.positive("threads", threads);
    Nd4j.getEnvironment().setMaxThreads(threads);
    Nd4j.getEnvironment().setMaxMasterThreads(threads);
    NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(threads);
    Nd4j.factory().blas().setMaxThreads(threads);
    applied = threads;
  }

  /** The limit last applied here, or ND4J's own default (its pool size) if none was. */
  public static int current() {
    return applied > 0 ? applied : Nd4j.getEnvironment().maxThreads();
  }
}
