package dev.reranker.attention;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The vector kernels against the reference, one kernel at a time, at the demo model's shapes and at
 * shapes that leave a remainder past the last full lane (so the scalar tails run too); and the
 * choice itself: this build's test JVMs run the vector kernels, a JVM without the module the
 * reference.
 */
class FloatKernelsTest {

  static final FloatKernels REFERENCE = FloatKernels.scalar();
  static final FloatKernels FAST = FloatKernels.preferred();

  @Test
  void theTestJvmRunsTheVectorKernels() {
    // the pom starts every test JVM with --add-modules=jdk.incubator.vector: without it the fast
    // kernels would go untested here and every comparison below would compare the reference
    // with itself
    assertThat(FAST.name()).as(FloatKernels.choiceReason()).startsWith("vector-");
    assertThat(FloatKernels.choiceReason()).contains("resolved");
  }

  @Test
  void aJvmWithoutTheModuleRunsTheReference() throws Exception {
    assertThat(probe()).startsWith("scalar: jdk.incubator.vector is not resolved");
    assertThat(probe("--add-modules=jdk.incubator.vector", "-Dreranker.kernels=scalar"))
        .startsWith("scalar: -Dreranker.kernels=scalar");
    assertThat(probe("--add-modules=jdk.incubator.vector", "-Dreranker.kernels=fast"))
        .startsWith("scalar: -Dreranker.kernels=fast is neither auto nor scalar");
    assertThat(probe("--add-modules=jdk.incubator.vector", "-XX:TieredStopAtLevel=1"))
        .startsWith("scalar: jdk.incubator.vector is resolved, but -XX:TieredStopAtLevel=1");
  }

  /** Runs {@link Probe} in a fresh JVM with {@code flags}; its one line of output. */
  private static String probe(String... flags) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    command.addAll(List.of(flags));
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Probe.class.getName());
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out.lines().filter(l -> !l.startsWith("WARNING")).findFirst().orElse("");
  }

  /** Prints the kernels this JVM chose and why. */
  public static final class Probe {
    public static void main(String[] args) {
      System.out.println(FloatKernels.preferred().name() + ": " + FloatKernels.choiceReason());
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 7, 16, 17, 31, 32, 33, 48, 64, 100})
  void dotMatchesTheReference(int n) {
    SplittableRandom r = new SplittableRandom(n);
    for (int round = 0; round < 100; round++) {
      float[] a = gaussian(r, n + 2, 1);
      float[] b = gaussian(r, n + 5, 1);
      double scale = 0;
      for (int j = 0; j < n; j++) {
        scale += Math.abs(a[2 + j] * b[5 + j]);
      }
      assertThat((double) FAST.dot(a, 2, b, 5, n)).isCloseTo(REFERENCE.dot(a, 2, b, 5, n),
          org.assertj.core.data.Offset.offset(1e-6 * scale));
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 7, 16, 17, 32, 33, 96, 128, 130})
  void vectorMatrixMatchesTheReference(int cols) {
    SplittableRandom r = new SplittableRandom(cols);
    for (int rows : new int[] {1, 5, 32, 33, 128}) {
      float[] in = gaussian(r, rows, 1);
      float[][] w = new float[rows][];
      for (int i = 0; i < rows; i++) {
        w[i] = gaussian(r, cols, 0.3);
      }
      float[] bias = gaussian(r, cols, 1);
      for (float[] b : new float[][] {null, bias}) {
        float[] expected = new float[cols];
        float[] actual = new float[cols];
        java.util.Arrays.fill(actual, Float.NaN); // every column must be written
        REFERENCE.vectorMatrix(in, w, expected, cols, b);
        FAST.vectorMatrix(in, w, actual, cols, b);
        for (int j = 0; j < cols; j++) {
          double scale = b == null ? 0 : Math.abs(b[j]);
          for (int i = 0; i < rows; i++) {
            scale += Math.abs(in[i] * w[i][j]);
          }
          assertThat((double) Math.abs(actual[j] - expected[j]))
              .as("rows %d cols %d column %d", rows, cols, j).isLessThanOrEqualTo(1e-6 * scale);
        }
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {3, 16, 20, 32, 40, 64})
  void projectionMatchesTheReference(int m) {
    SplittableRandom r = new SplittableRandom(m);
    for (int d : new int[] {1, 8, 16, 17, 32}) {
      float[] wT = gaussian(r, d * m, 1);
      float[] x = gaussian(r, d + 3, 2);
      float[] expected = new float[m + 2];
      float[] actual = new float[m + 2];
      float sqExpected = REFERENCE.project(x, 3, d, 0.5f, wT, m, expected, 2);
      float sqActual = FAST.project(x, 3, d, 0.5f, wT, m, actual, 2);
      assertThat((double) sqActual).isCloseTo(sqExpected, org.assertj.core.data.Offset.offset(
          1e-6 * Math.abs(sqExpected)));
      for (int i = 0; i < m; i++) {
        double scale = 0;
        for (int k = 0; k < d; k++) {
          scale += Math.abs(x[3 + k] * 0.5f * wT[k * m + i]);
        }
        assertThat((double) Math.abs(actual[2 + i] - expected[2 + i]))
            .as("d %d m %d feature %d", d, m, i).isLessThanOrEqualTo(1e-6 * scale);
      }
      assertThat(actual[0]).isZero(); // nothing written before the offset
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 15, 16, 32, 47})
  void featureExponentialsMatchTheReference(int m) {
    SplittableRandom r = new SplittableRandom(m);
    for (int round = 0; round < 200; round++) {
      // exponents from deep underflow (features then equal ε·scale) up to the key bound of 50
      float[] a = new float[m + 1];
      for (int i = 0; i < a.length; i++) {
        a[i] = (float) (r.nextDouble(-140, 60));
      }
      float[] expected = a.clone();
      float[] actual = a.clone();
      float maxExpected = REFERENCE.maxMinus(a, 1, m, 3.25f);
      assertThat(FAST.maxMinus(a, 1, m, 3.25f)).isEqualTo(maxExpected);
      REFERENCE.expFeatures(expected, 1, m, 3.25f, 1.5f, 1e-6, 0.125);
      FAST.expFeatures(actual, 1, m, 3.25f, 1.5f, 1e-6, 0.125);
      assertThat(actual[0]).isEqualTo(a[0]);
      for (int i = 1; i <= m; i++) {
        assertThat((double) actual[i]).as("exp feature of %s", a[i])
            .isCloseTo(expected[i], org.assertj.core.data.Offset.offset(3e-7 * expected[i]));
        assertThat(actual[i]).isPositive();
      }
    }
  }

  @Test
  void geluMatchesTheReferenceTailsIncluded() {
    float[] x = new float[400_003];
    for (int i = 0; i < x.length - 3; i++) {
      int k = i - 200_000;
      x[i] = k * 1e-4f * (1 + Math.abs(k) / 2_000f); // dense near 0, out to ±4,000
    }
    x[x.length - 3] = -1e30f;
    x[x.length - 2] = 1e30f;
    x[x.length - 1] = -0f;
    float[] expected = x.clone();
    float[] actual = x.clone();
    REFERENCE.gelu(expected, x.length);
    FAST.gelu(actual, x.length);
    double worst = 0;
    for (int i = 0; i < x.length; i++) {
      assertThat(Float.isFinite(actual[i])).as("gelu(%s)", x[i]).isTrue();
      worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
    }
    assertThat(worst).isLessThan(1e-6);
    assertThat(actual[x.length - 3]).isEqualTo(-0f);
    assertThat(actual[x.length - 2]).isEqualTo(1e30f);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 8, 16, 17, 24, 32, 33})
  void favorHeadStepMatchesTheReference(int valueDim) {
    SplittableRandom r = new SplittableRandom(valueDim);
    for (int features : new int[] {1, 20, 32}) {
      int width = valueDim + 1;
      int base = 5;
      float[] expectedState = new float[base + features * width + 4];
      float[] v = gaussian(r, valueDim + 2, 1);
      float[] expectedOut = new float[valueDim + 1];
      for (int i = 0; i < expectedState.length; i++) {
        expectedState[i] = (float) r.nextDouble(0, 3);
      }
      float[] actualState = expectedState.clone();
      float[] actualOut = new float[valueDim + 1];
      for (int step = 0; step < 300; step++) {
        float[] fk = positive(r, features);
        float[] fq = positive(r, features);
        REFERENCE.favorHeadStep(expectedState, base, features, valueDim, fk, fq, v, 2,
            expectedOut, 1, 1e-6f);
        FAST.favorHeadStep(actualState, base, features, valueDim, fk, fq, v, 2, actualOut, 1,
            1e-6f);
      }
      for (int i = 0; i < expectedState.length; i++) {
        assertThat((double) actualState[i]).as("state[%d], d_v %d m %d", i, valueDim, features)
            .isCloseTo(expectedState[i], org.assertj.core.data.Offset.offset(
                1e-5 * Math.max(1, Math.abs(expectedState[i]))));
      }
      assertThat(actualOut[0]).isZero();
      for (int j = 1; j <= valueDim; j++) {
        assertThat((double) actualOut[j]).as("out[%d], d_v %d m %d", j, valueDim, features)
            .isCloseTo(expectedOut[j], org.assertj.core.data.Offset.offset(
                1e-5 * Math.max(1, Math.abs(expectedOut[j]))));
      }
    }
  }

  private static float[] gaussian(SplittableRandom r, int n, double sd) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      // Box–Muller: SplittableRandom has no nextGaussian
      a[i] = (float) (sd * Math.sqrt(-2 * Math.log(1 - r.nextDouble()))
          * Math.cos(2 * Math.PI * r.nextDouble()));
    }
    return a;
  }

  private static float[] positive(SplittableRandom r, int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) Math.exp(r.nextDouble(-6, 2));
    }
    return a;
  }
}
