package dev.reranker.attention;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Issue 2, test 5: no NaN or Inf over 100,000 incremental steps, nor for input norms up to 10
 * (including the worst case for the softmax kernel: a key exactly along a projection row, where
 * w_iᵀx̃ − ‖x̃‖²/2 is largest).
 */
class StabilityTest {

  static final int HEADS = 2;
  static final int DIM = 32;
  static final int FEATURES = 64;

  @ParameterizedTest
  @EnumSource(FeatureMap.Kernel.class)
  void hundredThousandStepsStayFinite(FeatureMap.Kernel kernel) {
    FavorProjection w = FavorProjection.orthogonal(FEATURES, DIM, 31);
    FavorStepKernel step = new FavorStepKernel(FeatureMap.of(kernel, w), HEADS, DIM);
    FavorState state = step.newState();
    GaussianSampler g = new GaussianSampler(7);
    float[] q = new float[HEADS * DIM];
    float[] k = new float[HEADS * DIM];
    float[] v = new float[HEADS * DIM];
    float[] out = new float[HEADS * DIM];
    long bytes = state.byteSize();
    for (int t = 0; t < 100_000; t++) {
      // norms cycle through 0.1 … 10, every so often a key right on a projection row
      double norm = 0.1 + 9.9 * ((t * 7919) % 1000) / 999.0;
      randomWithNorm(g, q, norm);
      randomWithNorm(g, v, norm);
      if (t % 97 == 0) {
        alongRow(w, t % FEATURES, k, norm);
      } else {
        randomWithNorm(g, k, norm);
      }
      step.step(state, q, k, v, out);
      for (float x : out) {
        if (!Float.isFinite(x)) {
          throw new AssertionError("non-finite output at step " + t + ": " + x);
        }
      }
    }
    assertThat(state.isFinite()).isTrue();
    assertThat(state.position()).isEqualTo(100_000);
    assertThat(state.byteSize()).as("constant size").isEqualTo(bytes);
  }

  @Test
  void batchedKernelsStayFiniteForNormsUpToTen() {
    FavorProjection w = FavorProjection.orthogonal(FEATURES, DIM, 32);
    int length = 512;
    for (double norm : new double[] {1e-3, 1, 5, 10}) {
      INDArray q = withRowNorms(Arrays3.gaussian(1, 1, DataType.FLOAT, HEADS, length, DIM), norm);
      INDArray k = withRowNorms(Arrays3.gaussian(2, 1, DataType.FLOAT, HEADS, length, DIM), norm);
      INDArray v = withRowNorms(Arrays3.gaussian(3, 1, DataType.FLOAT, HEADS, length, DIM), norm);
      // plant keys on projection rows: the features' worst case
      for (int t = 0; t < length; t += 50) {
        float[] row = new float[DIM];
        alongRow(w, t % FEATURES, row, norm);
        for (int j = 0; j < DIM; j++) {
          k.putScalar(new long[] {0, t, j}, row[j]);
        }
      }
      for (CausalAttention attention : new CausalAttention[] {
          new FavorAttention(FeatureMap.softmaxKernel(w)), new FavorAttention(FeatureMap.reluKernel(w)),
          new SoftmaxAttention()}) {
        CausalAttention.Forward f = attention.forward(q, k, v);
        assertFinite(f.output(), attention + " output at norm " + norm);
        CausalAttention.Gradients g = attention.backward(f, Arrays3.gaussian(4, 1, DataType.FLOAT,
            HEADS, length, DIM));
        assertFinite(g.queries(), attention + " ∂q at norm " + norm);
        assertFinite(g.keys(), attention + " ∂k at norm " + norm);
        assertFinite(g.values(), attention + " ∂v at norm " + norm);
      }
    }
  }

  @Test
  void keyFeaturesAreBoundedWhateverTheInput() {
    FavorProjection w = FavorProjection.orthogonal(FEATURES, DIM, 33);
    FeatureMap map = FeatureMap.softmaxKernel(w);
    float[] x = new float[DIM];
    float[] phi = new float[FEATURES];
    double bound = Math.exp(w.maxHalfSquaredRowNorm()) / Math.sqrt(FEATURES) * (1 + 1e-5);
    for (double scale : new double[] {0.5, 1, 2, 4}) {
      for (int i = 0; i < FEATURES; i++) {
        // the maximiser of w_iᵀx̃ − ‖x̃‖²/2 is x̃ = w_i, i.e. x = d^(1/4)·w_i; scan around it
        for (int j = 0; j < DIM; j++) {
          x[j] = (float) (scale * Math.pow(DIM, 0.25) * w.weight(i, j));
        }
        map.apply(x, 0, phi, 0, FeatureMap.Role.KEY);
        for (float f : phi) {
          assertThat(Float.isFinite(f) && f > 0).isTrue();
          assertThat((double) f).isLessThanOrEqualTo(bound);
        }
      }
    }
  }

  private static void assertFinite(INDArray a, String what) {
    float[] values = a.castTo(DataType.FLOAT).dup('c').data().asFloat();
    for (int i = 0; i < values.length; i++) {
      if (!Float.isFinite(values[i])) {
        throw new AssertionError(what + ": non-finite value " + values[i] + " at " + i);
      }
    }
  }

  private static INDArray withRowNorms(INDArray a, double norm) {
    INDArray norms = a.norm2(true, 2);
    return a.div(norms).muli(norm);
  }

  private static void randomWithNorm(GaussianSampler g, float[] x, double norm) {
    double s = 0;
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) g.next();
      s += x[i] * x[i];
    }
    double scale = norm / Math.sqrt(s / HEADS); // per head ≈ norm
    for (int i = 0; i < x.length; i++) {
      x[i] *= (float) scale;
    }
  }

  /** Each head's vector along projection row i, with the given norm. */
  private static void alongRow(FavorProjection w, int row, float[] x, double norm) {
    double s = 0;
    for (int j = 0; j < DIM; j++) {
      s += w.weight(row, j) * w.weight(row, j);
    }
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (w.weight(row, i % DIM) * norm / Math.sqrt(s));
    }
  }
}
