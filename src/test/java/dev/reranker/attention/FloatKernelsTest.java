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
    List<String> jvm = new ArrayList<>(List.of(flags));
    List<String> programArgs = new ArrayList<>();
    int main = jvm.indexOf(Probe.class.getName());
    if (main >= 0) { // flags, then the class and its arguments
      programArgs.addAll(jvm.subList(main + 1, jvm.size()));
      jvm = new ArrayList<>(jvm.subList(0, main));
    }
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    command.addAll(jvm);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Probe.class.getName());
    command.addAll(programArgs);
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out.lines().filter(l -> !l.startsWith("WARNING")).findFirst().orElse("");
  }

  /** Prints the kernels this JVM chose and why; with an argument, the vector kernels' bits. */
  public static final class Probe {
    public static void main(String[] args) {
      if (args.length > 0) {
        System.out.println("bits " + fingerprint(new VectorFloatKernels()));
        return;
      }
      System.out.println(FloatKernels.preferred().name() + ": " + FloatKernels.choiceReason());
    }
  }

  /**
   * A state must not depend on which thread folded it, nor on whether the JIT had compiled the
   * kernels yet: the vector kernels give the same bits interpreted (the Vector API's Java code,
   * -Xint) and compiled by C1 as compiled into vector instructions here (after enough calls for
   * C2). BatchFolderTest holds the same property end to end (pool against caller).
   */
  @Test
  void theVectorKernelsGiveTheSameBitsInterpretedAndCompiled() throws Exception {
    VectorFloatKernels kernels = new VectorFloatKernels();
    long compiled = 0;
    for (int i = 0; i < 3_000; i++) { // C2 compiles the kernels long before the last call
      compiled = fingerprint(kernels);
    }
    assertThat(probe("--add-modules=jdk.incubator.vector", "-Xint", Probe.class.getName(),
        "bits")).as("interpreted").isEqualTo("bits " + compiled);
    assertThat(probe("--add-modules=jdk.incubator.vector", "-XX:TieredStopAtLevel=1", "-Xcomp",
        Probe.class.getName(), "bits")).as("compiled by C1").isEqualTo("bits " + compiled);
  }

  /** Every vector kernel once on fixed inputs, with lane remainders; a hash of the output bits. */
  static long fingerprint(FloatKernels k) {
    SplittableRandom r = new SplittableRandom(77);
    long h = 17;
    float[] in = gaussian(r, 37, 1);
    float[][] w = new float[37][];
    for (int i = 0; i < w.length; i++) {
      w[i] = gaussian(r, 53, 0.3);
    }
    float[] out = new float[53];
    k.vectorMatrix(in, w, out, 53, gaussian(r, 53, 1));
    h = h * 31 + java.util.Arrays.hashCode(out);
    float[] wT = gaussian(r, 19 * 37, 1);
    float[] features = new float[37];
    h = h * 31 + Float.floatToIntBits(k.project(in, 0, 19, 0.5f, wT, 37, features, 0));
    float c = k.maxMinus(features, 0, 37, 0.25f);
    k.expFeatures(features, 0, 37, 0.25f, c, 1e-6, 0.2);
    h = h * 31 + java.util.Arrays.hashCode(features);
    float[] wide = gaussian(r, 300, 40); // exp's whole range, overflow and underflow included
    k.expFeatures(wide, 0, 300, 0f, 0f, 0, 1);
    h = h * 31 + java.util.Arrays.hashCode(wide);
    float[] hidden = gaussian(r, 133, 3);
    k.gelu(hidden, 133);
    h = h * 31 + java.util.Arrays.hashCode(hidden);
    float[] normed = new float[37];
    k.layerNorm(in, gaussian(r, 37, 1), gaussian(r, 37, 1), normed, 1e-5);
    h = h * 31 + java.util.Arrays.hashCode(normed);
    h = h * 31 + Float.floatToIntBits(k.dot(in, 1, normed, 0, 36));
    float[] state = new float[37 * 20];
    float[] attended = new float[19];
    for (int step = 0; step < 5; step++) {
      k.favorHeadStep(state, 0, 37, 19, positive(r, 37), positive(r, 37), in, 3, attended, 0,
          1e-6f);
    }
    h = h * 31 + java.util.Arrays.hashCode(state);
    h = h * 31 + java.util.Arrays.hashCode(attended);
    float[] keys = gaussian(r, 70 * 19, 2);
    float[] values = gaussian(r, 70 * 21, 1);
    float[] softmaxOut = new float[21];
    k.softmaxHeadStep(keys, values, 70, 19, 21, in, 2, 0.25f, new float[70], softmaxOut, 0);
    h = h * 31 + java.util.Arrays.hashCode(softmaxOut);
    float[] encoded = new float[23 * 2 * 21];
    k.softmaxCausalEncode(gaussian(r, 23 * 2 * 19, 1), keys, values, 23, 2, 19, 21, 0.25f,
        encoded);
    return h * 31 + java.util.Arrays.hashCode(encoded);
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

  @ParameterizedTest
  @ValueSource(ints = {1, 7, 16, 24, 32, 33, 64})
  void layerNormMatchesTheReference(int d) {
    SplittableRandom r = new SplittableRandom(d);
    for (int round = 0; round < 100; round++) {
      float[] in = gaussian(r, d, 3);
      for (int j = 0; j < d; j++) {
        in[j] += 5; // an offset, so the two passes matter
      }
      float[] gain = gaussian(r, d, 1);
      float[] bias = gaussian(r, d, 1);
      float[] expected = new float[d];
      float[] actual = new float[d];
      REFERENCE.layerNorm(in, gain, bias, expected, 1e-5);
      FAST.layerNorm(in, gain, bias, actual, 1e-5);
      for (int j = 0; j < d; j++) {
        assertThat((double) actual[j]).as("d %d entry %d", d, j).isCloseTo(expected[j],
            org.assertj.core.data.Offset.offset(2e-5 * (1 + Math.abs(gain[j]))));
      }
    }
    float[] constant = new float[d];
    java.util.Arrays.fill(constant, 2.5f);
    float[] out = new float[d];
    float[] ones = new float[d];
    java.util.Arrays.fill(ones, 1f);
    FAST.layerNorm(constant, ones, new float[d], out, 1e-5); // ε keeps 1/σ finite
    for (float x : out) {
      assertThat(x).isZero();
    }
  }

  /** The lanes' own exp: within 1 ulp of Math.exp's float; its edges as documented. */
  @Test
  void laneExpIsWithinOneUlp() {
    var species = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;
    float[] x = new float[species.length()];
    float[] y = new float[species.length()];
    SplittableRandom r = new SplittableRandom(5);
    double worst = 0;
    for (int round = 0; round < 100_000; round++) {
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) r.nextDouble(-86.9, 88.72);
      }
      VectorFloatKernels.exp(jdk.incubator.vector.FloatVector.fromArray(species, x, 0))
          .intoArray(y, 0);
      for (int i = 0; i < x.length; i++) {
        float e = (float) Math.exp(x[i]);
        worst = Math.max(worst, Math.abs(y[i] - e) / Math.ulp(e));
      }
    }
    assertThat(worst).isLessThanOrEqualTo(1.0);
    float[] edges = {-1e30f, -87f, 88.8f, 88.9f, 1e30f, Float.NaN, Float.NEGATIVE_INFINITY};
    float[] want = {0f, 0f, Float.POSITIVE_INFINITY, Float.POSITIVE_INFINITY,
        Float.POSITIVE_INFINITY, Float.NaN, 0f};
    for (int k = 0; k < edges.length; k++) {
      java.util.Arrays.fill(x, edges[k]);
      VectorFloatKernels.exp(jdk.incubator.vector.FloatVector.fromArray(species, x, 0))
          .intoArray(y, 0);
      assertThat(Float.valueOf(y[0])).as("exp(%s)", edges[k]).isEqualTo(Float.valueOf(want[k]));
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

  @ParameterizedTest
  @ValueSource(ints = {1, 5, 16, 17, 100, 1000})
  void softmaxHeadStepMatchesTheReference(int n) {
    SplittableRandom r = new SplittableRandom(n);
    for (int[] dims : new int[][] {{32, 32}, {16, 24}, {7, 9}}) {
      int keyDim = dims[0];
      int valueDim = dims[1];
      float[] keys = gaussian(r, n * keyDim, 2);
      float[] values = gaussian(r, n * valueDim, 1);
      float[] q = gaussian(r, keyDim + 3, 2);
      float[] expected = new float[valueDim + 2];
      float[] actual = new float[valueDim + 2];
      float scale = (float) (1 / Math.sqrt(keyDim));
      REFERENCE.softmaxHeadStep(keys, values, n, keyDim, valueDim, q, 3, scale, new float[n],
          expected, 2);
      FAST.softmaxHeadStep(keys, values, n, keyDim, valueDim, q, 3, scale, new float[n + 7],
          actual, 2);
      assertThat(actual[0]).isZero();
      for (int t = 2; t < valueDim + 2; t++) {
        assertThat((double) actual[t]).as("n %d dims %s out %d", n, java.util.Arrays.toString(dims),
            t).isCloseTo(expected[t], org.assertj.core.data.Offset.offset(1e-5));
      }
    }
  }

  /** The tiled causal softmax encode against stepping through the sequence with the reference. */
  @ParameterizedTest
  @ValueSource(ints = {1, 3, 4, 17, 64, 130})
  void softmaxCausalEncodeMatchesTheReference(int length) {
    SplittableRandom r = new SplittableRandom(length);
    for (int[] dims : new int[][] {{2, 32, 32}, {3, 8, 24}, {1, 7, 9}}) {
      int heads = dims[0];
      int keyDim = dims[1];
      int valueDim = dims[2];
      float[] q = gaussian(r, length * heads * keyDim, 2);
      float[] k = gaussian(r, length * heads * keyDim, 2);
      float[] v = gaussian(r, length * heads * valueDim, 1);
      float scale = (float) (1 / Math.sqrt(keyDim));
      float[] expected = new float[length * heads * valueDim];
      float[] actual = new float[expected.length];
      REFERENCE.softmaxCausalEncode(q, k, v, length, heads, keyDim, valueDim, scale, expected);
      FAST.softmaxCausalEncode(q, k, v, length, heads, keyDim, valueDim, scale, actual);
      for (int i = 0; i < expected.length; i++) {
        assertThat((double) actual[i]).as("length %d dims %s entry %d", length,
            java.util.Arrays.toString(dims), i).isCloseTo(expected[i],
            org.assertj.core.data.Offset.offset(1e-5));
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
