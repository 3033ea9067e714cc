package dev.reranker.attention;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/** The fast kernels (batched ND4J, single-vector plain Java) against {@link ReferenceAttention}. */
class KernelsMatchReferenceTest {

  static final int BATCH = 3;
  static final int LENGTH = 150;
  static final int DIM = 16;
  static final int FEATURES = 48;

  @ParameterizedTest
  @EnumSource(FeatureMap.Kernel.class)
  void featureMapsMatchTheFormula(FeatureMap.Kernel kernel) {
    FavorProjection w = FavorProjection.orthogonal(FEATURES, DIM, 8);
    FeatureMap map = FeatureMap.of(kernel, w);
    INDArray x = Arrays3.gaussian(1, 1.5, DataType.DOUBLE, BATCH, LENGTH, DIM);
    for (FeatureMap.Role role : FeatureMap.Role.values()) {
      INDArray batched = map.apply(x, role);
      float[] one = new float[FEATURES];
      float[] xf = Arrays3.floats(x);
      for (int b = 0; b < BATCH; b++) {
        double[][] expected = kernel == FeatureMap.Kernel.SOFTMAX
            ? ReferenceAttention.softmaxFeatures(w, Arrays3.sequence(x, b), role,
                SoftmaxKernelFeatureMap.DEFAULT_EPSILON, 0)
            : ReferenceAttention.reluFeatures(w, Arrays3.sequence(x, b),
                ReluKernelFeatureMap.EPSILON);
        assertThat(Arrays3.maxAbsDiff(Arrays3.sequence(batched, b), expected))
            .as("%s %s batched (double)", kernel, role).isLessThan(1e-12);
        for (int t = 0; t < LENGTH; t++) {
          map.apply(xf, (b * LENGTH + t) * DIM, one, 0, role);
          for (int i = 0; i < FEATURES; i++) {
            // float32: relative 1e-5, plus absolute 1e-6 for features near zero (ReLU kink)
            assertThat(Math.abs(one[i] - expected[t][i])).as(
                "%s %s single vector, position %d feature %d", kernel, role, t, i)
                .isLessThan(1e-6 + 1e-5 * Math.abs(expected[t][i]));
          }
        }
      }
    }
  }

  @Test
  void softmaxFeaturesEstimateTheSoftmaxKernelWithoutBias() {
    // E_W[φ(q)ᵀφ(k)] = exp(qᵀk/√d): average over many independent projections
    int d = 8;
    double[] q = {0.3, -0.5, 0.8, 0.1, -0.2, 0.4, 0.0, 0.6};
    double[] k = {0.5, 0.2, 0.7, -0.4, 0.1, -0.3, 0.9, 0.2};
    double exact = ReferenceAttention.softmaxKernel(q, k);
    double sum = 0;
    int draws = 2000;
    for (int s = 0; s < draws; s++) {
      FavorProjection w = FavorProjection.orthogonal(d, d, 10_000 + s);
      double[] fq = ReferenceAttention.softmaxFeatures(w, new double[][] {q}, FeatureMap.Role.KEY,
          0, 0)[0];
      double[] fk = ReferenceAttention.softmaxFeatures(w, new double[][] {k}, FeatureMap.Role.KEY,
          0, 0)[0];
      sum += ReferenceAttention.dot(fq, fk);
    }
    assertThat(sum / draws).isCloseTo(exact, org.assertj.core.data.Percentage.withPercentage(3));
  }

  @Test
  void linearAttentionMatchesQuadraticReference() {
    INDArray qf = Transforms.exp(Arrays3.gaussian(2, 0.7, DataType.DOUBLE, BATCH, LENGTH, FEATURES),
        false);
    INDArray kf = Transforms.exp(Arrays3.gaussian(3, 0.7, DataType.DOUBLE, BATCH, LENGTH, FEATURES),
        false);
    INDArray v = Arrays3.gaussian(4, 1, DataType.DOUBLE, BATCH, LENGTH, DIM);
    for (int chunk : new int[] {1, 16, 64, 1000}) {
      CausalLinearAttention attention = new CausalLinearAttention(chunk);
      INDArray causal = attention.causal(qf, kf, v).output();
      INDArray bidirectional = attention.bidirectional(qf, kf, v).output();
      for (int b = 0; b < BATCH; b++) {
        double[][] q1 = Arrays3.sequence(qf, b);
        double[][] k1 = Arrays3.sequence(kf, b);
        double[][] v1 = Arrays3.sequence(v, b);
        assertThat(Arrays3.maxAbsDiff(Arrays3.sequence(causal, b),
            ReferenceAttention.linear(q1, k1, v1, true))).as("causal, chunk %d", chunk)
            .isLessThan(1e-12);
        assertThat(Arrays3.maxAbsDiff(Arrays3.sequence(bidirectional, b),
            ReferenceAttention.linear(q1, k1, v1, false))).as("bidirectional").isLessThan(1e-12);
      }
    }
  }

  @Test
  void continuingFromAStateEqualsEncodingEverything() {
    CausalLinearAttention attention = new CausalLinearAttention(32);
    INDArray qf = Transforms.exp(Arrays3.gaussian(5, 0.7, DataType.FLOAT, BATCH, LENGTH, FEATURES),
        false);
    INDArray kf = Transforms.exp(Arrays3.gaussian(6, 0.7, DataType.FLOAT, BATCH, LENGTH, FEATURES),
        false);
    INDArray v = Arrays3.gaussian(7, 1, DataType.FLOAT, BATCH, LENGTH, DIM);
    CausalLinearAttention.Forward all = attention.causal(qf, kf, v);
    int split = 61;
    CausalLinearAttention.Forward first = attention.causal(CausalLinearAttention.rows(qf, 0, split),
        CausalLinearAttention.rows(kf, 0, split), CausalLinearAttention.rows(v, 0, split));
    CausalLinearAttention.Forward rest = attention.causal(
        CausalLinearAttention.rows(qf, split, LENGTH), CausalLinearAttention.rows(kf, split, LENGTH),
        CausalLinearAttention.rows(v, split, LENGTH), first.finalState());
    assertThat(Arrays3.maxAbsDiff(rest.output(), CausalLinearAttention.rows(all.output(), split,
        LENGTH))).isLessThan(1e-5);
    assertThat(Arrays3.maxAbsDiff(rest.finalState(), all.finalState())
        / all.finalState().amaxNumber().doubleValue()).isLessThan(1e-5);
  }

  @Test
  void softmaxAttentionMatchesReference() {
    INDArray q = Arrays3.gaussian(8, 1, DataType.DOUBLE, BATCH, LENGTH, DIM);
    INDArray k = Arrays3.gaussian(9, 1, DataType.DOUBLE, BATCH, LENGTH, DIM);
    INDArray v = Arrays3.gaussian(10, 1, DataType.DOUBLE, BATCH, LENGTH, DIM);
    for (int block : new int[] {1, 37, 256}) {
      INDArray out = new SoftmaxAttention(block).forward(q, k, v).output();
      for (int b = 0; b < BATCH; b++) {
        assertThat(Arrays3.maxAbsDiff(Arrays3.sequence(out, b), ReferenceAttention.softmax(
            Arrays3.sequence(q, b), Arrays3.sequence(k, b), Arrays3.sequence(v, b), true)))
            .as("block %d", block).isLessThan(1e-12);
      }
    }
  }
}
