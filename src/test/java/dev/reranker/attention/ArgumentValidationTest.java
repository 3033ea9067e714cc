package dev.reranker.attention;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Issue 2, test 6: bad arguments fail fast with a message that names what is wrong. */
class ArgumentValidationTest {

  static final FavorProjection W = FavorProjection.orthogonal(8, 4, 1);
  static final FeatureMap MAP = FeatureMap.softmaxKernel(W);

  static INDArray x(int b, int l, int d) {
    return Arrays3.gaussian(1, 1, DataType.FLOAT, b, l, d);
  }

  private static void rejects(ThrowingCallable call, String... messageParts) {
    var assertion = assertThatThrownBy(call).isInstanceOf(IllegalArgumentException.class);
    for (String part : messageParts) {
      assertion.hasMessageContaining(part);
    }
  }

  @Test
  void projections() {
    rejects(() -> FavorProjection.orthogonal(0, 4, 1), "features (m)", "≥ 1", "0");
    rejects(() -> FavorProjection.orthogonal(-3, 4, 1), "features (m)");
    rejects(() -> FavorProjection.orthogonal(8, 0, 1), "dim (d)");
    rejects(() -> FavorProjection.draw(8, 4, 1, null, FavorProjection.RowNorms.CHI), "sampling");
    rejects(() -> FavorProjection.draw(8, 4, 1, FavorProjection.Sampling.IID, null), "rowNorms");
    rejects(() -> FavorProjection.fromWeights(8, 4, new float[31], FavorProjection.Sampling.IID,
        FavorProjection.RowNorms.CHI, 0), "m*d", "32", "31");
    rejects(() -> FavorProjection.fromWeights(1, 2, new float[] {1, Float.NaN},
        FavorProjection.Sampling.IID, FavorProjection.RowNorms.CHI, 0), "non-finite");
    rejects(() -> FavorProjection.fromWeights(1, 2, null, FavorProjection.Sampling.IID,
        FavorProjection.RowNorms.CHI, 0), "weights", "null");
  }

  @Test
  void featureMaps() {
    rejects(() -> FeatureMap.softmaxKernel(null), "projection", "null");
    rejects(() -> FeatureMap.reluKernel(null), "projection", "null");
    rejects(() -> FeatureMap.of(null, W), "kernel", "null");
    rejects(() -> MAP.apply(null, FeatureMap.Role.KEY), "x", "null");
    rejects(() -> MAP.apply(x(2, 5, 3), FeatureMap.Role.KEY), "x", "[batch, length, 4]", "3");
    rejects(() -> MAP.apply(Nd4j.rand(DataType.FLOAT, 5, 4), FeatureMap.Role.KEY), "rank 3");
    rejects(() -> MAP.apply(Nd4j.zeros(DataType.INT, 1, 5, 4), FeatureMap.Role.KEY),
        "FLOAT or DOUBLE", "INT");
    rejects(() -> MAP.apply(x(1, 5, 4), null), "role");
    rejects(() -> MAP.apply(new float[3], 0, new float[8], 0, FeatureMap.Role.QUERY), "x", "d=4");
    rejects(() -> MAP.apply(new float[4], 0, new float[7], 0, FeatureMap.Role.QUERY), "out",
        "m=8");
    rejects(() -> MAP.apply(new float[8], 5, new float[8], 0, FeatureMap.Role.QUERY), "offset 5");
    rejects(() -> MAP.backward(x(1, 5, 4), x(1, 5, 7), x(1, 5, 8), FeatureMap.Role.KEY), "phi");
    // a head dimension whose softmax features could not be stabilised without underflow
    rejects(() -> FeatureMap.softmaxKernel(FavorProjection.orthogonal(64, 512, 1)),
        "head dimension d=512", "ReLU kernel");
  }

  @Test
  void batchedAttention() {
    rejects(() -> new CausalLinearAttention(0), "chunk", "≥ 1");
    rejects(() -> new SoftmaxAttention(-1), "block");
    rejects(() -> new FavorAttention(null), "featureMap");
    CausalLinearAttention linear = new CausalLinearAttention(4);
    rejects(() -> linear.causal(x(2, 5, 8), x(2, 6, 8), x(2, 5, 3)), "keyFeatures", "[2, 5, 8]");
    rejects(() -> linear.causal(x(2, 5, 8), x(2, 5, 8), x(1, 5, 3)), "values");
    rejects(() -> linear.causal(x(2, 5, 8), x(2, 5, 8), x(2, 5, 3), x(2, 8, 3)), "initialState",
        "[2, 8, 4]");
    rejects(() -> linear.causal(x(2, 5, 8), x(2, 5, 8).castTo(DataType.DOUBLE), x(2, 5, 3)),
        "data type");
    rejects(() -> linear.causal(null, x(2, 5, 8), x(2, 5, 3)), "queryFeatures", "null");
    rejects(() -> linear.causal(x(2, 0, 8), x(2, 0, 8), x(2, 0, 3)), "at least one position");
    SoftmaxAttention softmax = new SoftmaxAttention();
    rejects(() -> softmax.forward(x(1, 5, 4), x(1, 5, 5), x(1, 5, 4)), "keys");
    CausalAttention.Forward f = softmax.forward(x(1, 5, 4), x(1, 5, 4), x(1, 5, 4));
    rejects(() -> softmax.backward(f, x(1, 5, 3)), "gradOutput");
    rejects(() -> softmax.backward(null, x(1, 5, 4)), "forward", "SoftmaxAttention");
    FavorAttention favor = new FavorAttention(MAP);
    rejects(() -> favor.backward(f, x(1, 5, 4)), "forward", "FavorAttention");
    rejects(() -> favor.forward(x(1, 5, 3), x(1, 5, 3), x(1, 5, 4)), "x", "4");
  }

  @Test
  void stepKernelsAndStates() {
    rejects(() -> new FavorState(0, 8, 4), "heads");
    rejects(() -> new FavorState(1, 0, 4), "features (m)");
    rejects(() -> new FavorState(1, 8, 0), "valueDim");
    rejects(() -> new FavorStepKernel(null, 2, 4), "featureMap");
    rejects(() -> new SoftmaxStepKernel(2, 0, 4), "keyDim");
    FavorStepKernel step = new FavorStepKernel(MAP, 2, 4);
    float[] ok = new float[8];
    rejects(() -> step.step(new FavorState(2, 8, 5), ok, ok, ok, ok), "state", "d_v=5", "d_v=4");
    rejects(() -> step.step(null, ok, ok, ok, ok), "state", "null");
    rejects(() -> step.step(step.newState(), new float[7], ok, ok, ok), "q", "8 floats");
    rejects(() -> step.step(step.newState(), ok, ok, ok, new float[3]), "out");
    SoftmaxStepKernel softmax = new SoftmaxStepKernel(2, 4, 4);
    rejects(() -> softmax.step(new SoftmaxKvCache(1, 4, 4), ok, ok, ok, ok), "cache", "heads=1");
    rejects(() -> softmax.step(softmax.newState(), ok, null, ok, ok), "k", "null");
    rejects(() -> softmax.newState().truncate(1), "newLength");
    rejects(() -> FavorState.fromArray(x(2, 8, 1), 0), "d_v ≥ 1");
    rejects(() -> FavorState.fromArray(x(2, 8, 5), -1), "position");
  }
}
