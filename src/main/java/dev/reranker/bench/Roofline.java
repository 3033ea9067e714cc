package dev.reranker.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The limits of the machine a benchmark runs on, measured in the same run: the fp32 GEMM rate at
 * the shapes the measured work multiplies, and the memory bandwidth of a copy far larger than the
 * caches. A benchmark divides what it does by these to get a floor ({@link #floorSeconds}: FLOP ÷
 * rate or bytes ÷ bandwidth, whichever is larger) and reports achieved ÷ floor: a ratio within one
 * run, so it holds on a VM that is 2–5× slower or faster than another day's.
 *
 * <p>Both probes run on the calling thread with ND4J's per-op threads as the process set them
 * ({@code Nd4jThreads}: one by default): the floor is that of the thread doing the measured work,
 * which is how the engine runs it (a Kafka Streams thread folds, a request thread scores).
 */
public final class Roofline {

  /** One GEMM shape's rate: C[m×n] = A[m×k]·B[k×n], 2mkn FLOP. */
  public record Gemm(String name, int m, int k, int n, double gflops) {}

  private final List<Gemm> gemms;
  private final double copyGigabytesPerSecond;

  private Roofline(List<Gemm> gemms, double copyGigabytesPerSecond) {
    this.gemms = List.copyOf(gemms);
    this.copyGigabytesPerSecond = copyGigabytesPerSecond;
  }

  /**
   * Measures the GEMM rate at each named shape ({@code {m, k, n}}) and the copy bandwidth.
   * About a second per shape and two for the copy.
   */
  public static Roofline measure(Map<String, int[]> shapes) {
    List<Gemm> out = new ArrayList<>();
    for (Map.Entry<String, int[]> s : shapes.entrySet()) {
      int[] mkn = s.getValue();
      out.add(new Gemm(s.getKey(), mkn[0], mkn[1], mkn[2], gemmGflops(mkn[0], mkn[1], mkn[2])));
    }
    return new Roofline(out, copyGigabytesPerSecond());
  }

  /** The best rate over the probed shapes, GFLOP/s: the compute roof the floor uses. */
  public double gflops() {
    return gemms.stream().mapToDouble(Gemm::gflops).max().orElseThrow();
  }

  /** Bytes read plus bytes written per second by a large copy, GB/s. */
  public double gigabytesPerSecond() {
    return copyGigabytesPerSecond;
  }

  /** The least time {@code flop} of GEMM-shaped work moving {@code bytes} through memory needs. */
  public double floorSeconds(double flop, double bytes) {
    return Math.max(flop / (gflops() * 1e9), bytes / (copyGigabytesPerSecond * 1e9));
  }

  /** {@code floorSeconds / achievedSeconds}: 1 is the machine's limit. */
  public double fraction(double flop, double bytes, double achievedSeconds) {
    return floorSeconds(flop, bytes) / achievedSeconds;
  }

  /** Which roof binds this work: "compute" or "memory". */
  public String bound(double flop, double bytes) {
    return flop / (gflops() * 1e9) >= bytes / (copyGigabytesPerSecond * 1e9) ? "compute"
        : "memory";
  }

  /** The probes for the JSON report. */
  public Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    List<Map<String, Object>> shapes = new ArrayList<>();
    for (Gemm g : gemms) {
      Map<String, Object> s = new LinkedHashMap<>();
      s.put("name", g.name());
      s.put("m", g.m());
      s.put("k", g.k());
      s.put("n", g.n());
      s.put("gflops", round(g.gflops()));
      shapes.add(s);
    }
    m.put("sgemm", shapes);
    m.put("sgemm_gflops", round(gflops()));
    m.put("copy_gb_per_s", round(copyGigabytesPerSecond));
    m.put("threads", "the calling thread; ND4J per-op threads as configured");
    return m;
  }

  /** One line per probe, for the console. */
  public String describe() {
    StringBuilder b = new StringBuilder("roofline probes (this thread):");
    for (Gemm g : gemms) {
      b.append(String.format("%n  sgemm %-22s %5d×%-4d·%4d×%-5d %8.1f GFLOP/s", g.name(), g.m(),
          g.k(), g.k(), g.n(), g.gflops()));
    }
    b.append(String.format("%n  copy (read + write, 256 MB)              %8.1f GB/s",
        copyGigabytesPerSecond));
    return b.toString();
  }

  /** Median GFLOP/s of {@code Nd4j.gemm} into a reused F-order output (the fast form on ND4J). */
  static double gemmGflops(int m, int k, int n) {
    INDArray a = Nd4j.rand(DataType.FLOAT, m, k);
    INDArray b = Nd4j.rand(DataType.FLOAT, k, n);
    INDArray c = Nd4j.create(DataType.FLOAT, new long[] {m, n}, 'f');
    double flop = 2.0 * m * k * n;
    int perRound = (int) Math.max(1, Math.min(100_000, 2e7 / flop)); // ≥ ~1 ms of work a round
    for (int i = 0; i < 3 * perRound; i++) { // warm-up: JIT, first touch, library init
      Nd4j.gemm(a, b, c, false, false, 1.0, 0.0);
    }
    double[] rates = new double[7];
    for (int r = 0; r < rates.length; r++) {
      long start = System.nanoTime();
      for (int i = 0; i < perRound; i++) {
        Nd4j.gemm(a, b, c, false, false, 1.0, 0.0);
      }
      rates[r] = flop * perRound / (System.nanoTime() - start);
    }
    Arrays.sort(rates);
    return rates[rates.length / 2];
  }

  /** Best of 5 copies of 128 MB (256 MB moved each): far beyond any cache here. */
  static double copyGigabytesPerSecond() {
    float[] from = new float[32 << 20];
    float[] to = new float[from.length];
    Arrays.fill(from, 1f);
    Arrays.fill(to, 0f); // first touch outside the timing
    double best = 0;
    for (int r = 0; r < 6; r++) {
      long start = System.nanoTime();
      System.arraycopy(from, 0, to, 0, from.length);
      double rate = 2.0 * 4 * from.length / (System.nanoTime() - start);
      if (r > 0) {
        best = Math.max(best, rate);
      }
    }
    if (to[to.length - 1] != 1f) {
      throw new IllegalStateException("copy probe did not copy");
    }
    return best;
  }

  static double round(double x) {
    return Math.round(x * 1000) / 1000.0;
  }
}
