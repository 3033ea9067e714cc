package dev.reranker.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reranker.attention.FavorProjection;
import dev.reranker.attention.FeatureMap;
import dev.reranker.attention.GaussianSampler;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Issue 3: a finite-difference check of the whole model's backward pass (embeddings, order signal,
 * every block, final LayerNorm), in double precision, with dropout on (the same masks in every
 * pass: a fresh generator from one seed) and padded windows.
 */
class ModelGradientCheckTest {

  static final double H = 1e-6;

  static ModelConfig tiny(Arm arm) {
    return ModelConfig.builder(13, arm).dim(8).layers(2).heads(2).ffnDim(16)
        .kernel(FeatureMap.Kernel.SOFTMAX).features(6).rowNorms(FavorProjection.RowNorms.CHI)
        .chunk(3).dropout(0.25).seed(5).build();
  }

  static Batch batch() {
    return Batch.of(List.of(
        new Batch.Window(new int[] {3, 1, 4, 1, 5}, new long[] {0, 1000, 61_000, 61_000,
            9_000_000}, 0, OrderSignal.NO_PREVIOUS),
        new Batch.Window(new int[] {9, 2, 6}, new long[] {5, 6, 7}, 40, 2)));
  }

  @ParameterizedTest
  @EnumSource(Arm.class)
  void wholeModelBackwardMatchesFiniteDifferences(Arm arm) {
    ModelConfig config = tiny(arm);
    ModelWeights weights = ModelWeights.initialize(config).castTo(DataType.DOUBLE);
    // non-trivial LayerNorm parameters and biases
    GaussianSampler g = new GaussianSampler(9);
    for (INDArray a : weights.arrays().values()) {
      if (a.size(0) == 1) {
        for (long i = 0; i < a.length(); i++) {
          a.putScalar(i, a.getDouble(i) + 0.3 * g.next());
        }
      }
    }
    SequenceModel model = new SequenceModel(config, weights);
    Batch batch = batch();
    INDArray r = Nd4j.create(DataType.DOUBLE, batch.rows(), config.dim());
    for (int row = 0; row < batch.rows(); row++) {
      if (row % batch.time() < batch.lengths()[row / batch.time()]) { // real rows only
        for (int j = 0; j < config.dim(); j++) {
          r.putScalar(row, j, g.next());
        }
      }
    }
    Supplier<Double> loss = () -> model.forward(batch, new SequenceModel.Dropout(0.25, 77))
        .hidden().mul(r).sumNumber().doubleValue();
    ModelWeights grads = weights.zerosLike();
    model.backward(model.forward(batch, new SequenceModel.Dropout(0.25, 77)), r, grads);

    SplittableRandom pick = new SplittableRandom(3);
    int checked = 0;
    double worst = 0;
    for (Map.Entry<String, INDArray> e : weights.arrays().entrySet()) {
      INDArray w = e.getValue();
      INDArray analytic = grads.get(e.getKey());
      int samples = (int) Math.min(w.length(), 12);
      for (int s = 0; s < samples; s++) {
        long i = w.length() <= 12 ? s : pick.nextLong(w.length());
        double original = w.getDouble(i);
        w.putScalar(i, original + H);
        double plus = loss.get();
        w.putScalar(i, original - H);
        double minus = loss.get();
        w.putScalar(i, original);
        double numeric = (plus - minus) / (2 * H);
        double exact = analytic.getDouble(i);
        double error = Math.abs(numeric - exact);
        assertThat(error).as("%s %s[%d]: numeric %s, analytic %s", arm, e.getKey(), i, numeric,
            exact).isLessThan(1e-7 + 1e-5 * Math.abs(exact));
        if (Math.abs(exact) > 1e-3) {
          worst = Math.max(worst, error / Math.abs(exact));
        }
        checked++;
      }
    }
    assertThat(checked).isGreaterThan(200);
    assertThat(worst).as("worst relative error").isLessThan(1e-5);
  }
}
