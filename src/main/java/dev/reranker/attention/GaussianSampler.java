package dev.reranker.attention;

import java.util.SplittableRandom;

/**
 * Standard normal samples that are bit-for-bit reproducible from a seed on every JVM and platform.
 *
 * <p>Why not {@code Random.nextGaussian()}: its algorithm is not part of the
 * {@code RandomGenerator} contract and {@code Math.log}/{@code Math.sqrt} intrinsics may differ
 * between JVMs. This uses the polar Box–Muller method over {@link SplittableRandom} (whose
 * algorithm is specified) with {@link StrictMath}, so a projection matrix or an initial weight
 * drawn from a seed is the same everywhere. Not thread-safe.
 */
public final class GaussianSampler {
  private final SplittableRandom random;
  private double spare;
  private boolean hasSpare;

  public GaussianSampler(long seed) {
    this.random = new SplittableRandom(seed);
  }

  /** One N(0, 1) sample. */
  public double next() {
    if (hasSpare) {
      hasSpare = false;
      return spare;
    }
    double u;
    double v;
    double s;
    do {
      u = 2 * random.nextDouble() - 1;
      v = 2 * random.nextDouble() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s == 0);
    double factor = StrictMath.sqrt(-2 * StrictMath.log(s) / s);
    spare = v * factor;
    hasSpare = true;
    return u * factor;
  }

  /** Fills {@code out} with N(0, scale²) samples. */
  public void fill(float[] out, double scale) {
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) (scale * next());
    }
  }
}
