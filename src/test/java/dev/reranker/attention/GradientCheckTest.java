package dev.reranker.attention;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Issue 2, test 4: finite-difference checks of every hand-written backward pass, in double precision.
 * The loss is L = Σ out ⊙ R for a fixed random R, so ∂L/∂out = R; every input coordinate is perturbed
 * by ±h and the central difference compared with the analytic gradient.
 */
class GradientCheckTest {

  static final DataType D = DataType.DOUBLE;
  static final double H = 1e-6;
  static final double RELATIVE_TOLERANCE = 1e-6;
  static final double ABSOLUTE_TOLERANCE = 1e-8;
  /**
   * The finite difference's own rounding error is ≈ 1e-10 absolute here (loss ≈ 10, ulp ≈ 1e-15,
   * divided by 2h); the relative summary counts gradients large enough for it to be below 1e-7.
   */
  static final double SIGNIFICANT = 1e-3;
  // two full chunks/blocks of 3 and a partial one: the carried state and the ragged end both count
  static final int BATCH = 2;
  static final int LENGTH = 8;
  static final int CHUNK = 3;
  static final int DIM = 4;
  static final int FEATURES = 6;
  static final int VALUE_DIM = 3;

  @ParameterizedTest
  @EnumSource(FeatureMap.Kernel.class)
  void featureMapBackward(FeatureMap.Kernel kernel) {
    FeatureMap map = FeatureMap.of(kernel, FavorProjection.orthogonal(FEATURES, DIM, 3));
    for (FeatureMap.Role role : FeatureMap.Role.values()) {
      INDArray x = Arrays3.gaussian(1, 1.0, D, BATCH, LENGTH, DIM);
      INDArray r = Arrays3.gaussian(2, 1.0, D, BATCH, LENGTH, FEATURES);
      INDArray phi = map.apply(x, role);
      INDArray grad = map.backward(x, phi, r, role);
      assertGradient(kernel + " " + role, in -> map.apply(in[0], role), r, new INDArray[] {x},
          new INDArray[] {grad});
    }
  }

  @Test
  void causalLinearAttentionBackward() {
    CausalLinearAttention attention = new CausalLinearAttention(CHUNK);
    INDArray qf = positive(3, FEATURES);
    INDArray kf = positive(4, FEATURES);
    INDArray v = Arrays3.gaussian(5, 1.0, D, BATCH, LENGTH, VALUE_DIM);
    INDArray r = Arrays3.gaussian(6, 1.0, D, BATCH, LENGTH, VALUE_DIM);
    for (INDArray initial : new INDArray[] {null,
        Transforms.abs(Arrays3.gaussian(7, 1.0, D, BATCH, FEATURES, VALUE_DIM + 1))}) {
      CausalLinearAttention.Forward f = attention.causal(qf, kf, v, initial);
      CausalLinearAttention.Gradients g = attention.causalBackward(qf, kf, v, initial, f, r);
      assertGradient("causal linear, initial state " + (initial != null),
          in -> attention.causal(in[0], in[1], in[2], initial).output(), r,
          new INDArray[] {qf, kf, v}, new INDArray[] {g.queryFeatures(), g.keyFeatures(),
              g.values()});
    }
  }

  @Test
  void bidirectionalLinearAttentionBackward() {
    CausalLinearAttention attention = new CausalLinearAttention(CHUNK);
    INDArray qf = positive(8, FEATURES);
    INDArray kf = positive(9, FEATURES);
    INDArray v = Arrays3.gaussian(10, 1.0, D, BATCH, LENGTH, VALUE_DIM);
    INDArray r = Arrays3.gaussian(11, 1.0, D, BATCH, LENGTH, VALUE_DIM);
    CausalLinearAttention.Forward f = attention.bidirectional(qf, kf, v);
    CausalLinearAttention.Gradients g = attention.bidirectionalBackward(qf, kf, v, f, r);
    assertGradient("bidirectional linear", in -> attention.bidirectional(in[0], in[1], in[2])
        .output(), r, new INDArray[] {qf, kf, v}, new INDArray[] {g.queryFeatures(),
            g.keyFeatures(), g.values()});
  }

  @ParameterizedTest
  @EnumSource(FeatureMap.Kernel.class)
  void favorAttentionBackwardEndToEnd(FeatureMap.Kernel kernel) {
    FavorAttention favor = new FavorAttention(
        FeatureMap.of(kernel, FavorProjection.orthogonal(FEATURES, DIM, 4)), CHUNK);
    INDArray q = Arrays3.gaussian(12, 1.0, D, BATCH, LENGTH, DIM);
    INDArray k = Arrays3.gaussian(13, 1.0, D, BATCH, LENGTH, DIM);
    INDArray v = Arrays3.gaussian(14, 1.0, D, BATCH, LENGTH, VALUE_DIM);
    INDArray r = Arrays3.gaussian(15, 1.0, D, BATCH, LENGTH, VALUE_DIM);
    CausalAttention.Gradients causal = favor.backward(favor.forward(q, k, v), r);
    assertGradient(kernel + " causal FAVOR+", in -> favor.forward(in[0], in[1], in[2]).output(), r,
        new INDArray[] {q, k, v}, new INDArray[] {causal.queries(), causal.keys(),
            causal.values()});
    CausalAttention.Gradients bidirectional = favor.backward(favor.bidirectional(q, k, v), r);
    assertGradient(kernel + " bidirectional FAVOR+",
        in -> favor.bidirectional(in[0], in[1], in[2]).output(), r, new INDArray[] {q, k, v},
        new INDArray[] {bidirectional.queries(), bidirectional.keys(), bidirectional.values()});
  }

  @Test
  void softmaxAttentionBackward() {
    SoftmaxAttention softmax = new SoftmaxAttention(CHUNK);
    INDArray q = Arrays3.gaussian(16, 1.0, D, BATCH, LENGTH, DIM);
    INDArray k = Arrays3.gaussian(17, 1.0, D, BATCH, LENGTH, DIM);
    INDArray v = Arrays3.gaussian(18, 1.0, D, BATCH, LENGTH, VALUE_DIM);
    INDArray r = Arrays3.gaussian(19, 1.0, D, BATCH, LENGTH, VALUE_DIM);
    CausalAttention.Gradients g = softmax.backward(softmax.forward(q, k, v), r);
    assertGradient("causal softmax", in -> softmax.forward(in[0], in[1], in[2]).output(), r,
        new INDArray[] {q, k, v}, new INDArray[] {g.queries(), g.keys(), g.values()});
  }

  private static INDArray positive(long seed, int width) {
    return Transforms.exp(Arrays3.gaussian(seed, 0.5, D, BATCH, LENGTH, width), false);
  }

  /** Compares analytic gradients of L = Σ forward(inputs) ⊙ r with central differences. */
  private static void assertGradient(String what, Function<INDArray[], INDArray> forward,
      INDArray r, INDArray[] inputs, INDArray[] analytic) {
    double worst = 0;
    for (int a = 0; a < inputs.length; a++) {
      INDArray x = inputs[a];
      assertThat(analytic[a].shape()).as("%s: gradient shape of input %d", what, a)
          .isEqualTo(x.shape());
      for (long i = 0; i < x.length(); i++) {
        double original = x.getDouble(i);
        x.putScalar(i, original + H);
        double plus = forward.apply(inputs).mul(r).sumNumber().doubleValue();
        x.putScalar(i, original - H);
        double minus = forward.apply(inputs).mul(r).sumNumber().doubleValue();
        x.putScalar(i, original);
        double numeric = (plus - minus) / (2 * H);
        double exact = analytic[a].getDouble(i);
        double error = Math.abs(numeric - exact);
        double allowed = ABSOLUTE_TOLERANCE + RELATIVE_TOLERANCE * (Math.abs(numeric)
            + Math.abs(exact));
        assertThat(error).as("%s: input %d, coordinate %d: numeric %s vs analytic %s", what, a, i,
            numeric, exact).isLessThanOrEqualTo(allowed);
        if (Math.abs(exact) > SIGNIFICANT) {
          worst = Math.max(worst, error / Math.abs(exact));
        }
      }
    }
    assertThat(worst).as("%s: worst relative error", what).isLessThan(RELATIVE_TOLERANCE);
  }
}
