package dev.reranker.training;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reranker.attention.FavorProjection;
import dev.reranker.attention.FeatureMap;
import dev.reranker.attention.GaussianSampler;
import dev.reranker.model.Arm;
import dev.reranker.model.ModelConfig;
import dev.reranker.model.ModelWeights;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Finite-difference checks of both losses' gradients (hidden states and item embeddings). */
class NextItemLossTest {

  static final int ROWS = 7;
  static final int ITEMS = 11;
  static final int DIM = 5;
  static final int[] TARGETS = {3, -1, 0, 10, 3, -1, 7};
  static final int[] NEGATIVES = {4, 3, 9, 1}; // 3 is an accidental hit for rows 0 and 4

  interface Loss {
    double apply(INDArray hidden, ModelWeights w, INDArray gradHidden, ModelWeights grads);
  }

  @Test
  void fullSoftmaxGradients() {
    check((h, w, gh, g) -> NextItemLoss.fullSoftmax(h, TARGETS, w, gh, g));
  }

  @Test
  void sampledSoftmaxGradients() {
    check((h, w, gh, g) -> NextItemLoss.sampledSoftmax(h, TARGETS, w, NEGATIVES, gh, g));
  }

  @Test
  void fullSoftmaxOfUniformScoresIsLogOfTheCatalogue() {
    ModelWeights w = weights();
    w.get(ModelWeights.ITEM_EMBEDDING).assign(0);
    INDArray h = Nd4j.rand(DataType.DOUBLE, ROWS, DIM);
    double loss = NextItemLoss.fullSoftmax(h, TARGETS, w, Nd4j.create(DataType.DOUBLE, ROWS, DIM),
        w.zerosLike());
    assertThat(loss).isCloseTo(Math.log(ITEMS), org.assertj.core.data.Offset.offset(1e-12));
  }

  private static ModelWeights weights() {
    ModelConfig c = ModelConfig.builder(ITEMS, Arm.SOFTMAX).dim(DIM).layers(1).heads(1).ffnDim(4)
        .kernel(FeatureMap.Kernel.SOFTMAX).features(4).rowNorms(FavorProjection.RowNorms.CHI)
        .chunk(8).dropout(0).seed(1).build();
    return ModelWeights.initialize(c).castTo(DataType.DOUBLE);
  }

  private static void check(Loss loss) {
    ModelWeights w = weights();
    GaussianSampler g = new GaussianSampler(2);
    INDArray h = Nd4j.create(DataType.DOUBLE, ROWS, DIM);
    for (long i = 0; i < h.length(); i++) {
      h.putScalar(i, g.next());
    }
    INDArray gradHidden = Nd4j.create(DataType.DOUBLE, ROWS, DIM);
    ModelWeights grads = w.zerosLike();
    loss.apply(h, w, gradHidden, grads);
    Supplier<Double> value = () -> loss.apply(h, w, Nd4j.create(DataType.DOUBLE, ROWS, DIM),
        w.zerosLike());
    INDArray embedding = w.get(ModelWeights.ITEM_EMBEDDING);
    for (INDArray[] pair : new INDArray[][] {{h, gradHidden},
        {embedding, grads.get(ModelWeights.ITEM_EMBEDDING)}}) {
      for (long i = 0; i < pair[0].length(); i++) {
        double original = pair[0].getDouble(i);
        pair[0].putScalar(i, original + 1e-6);
        double plus = value.get();
        pair[0].putScalar(i, original - 1e-6);
        double minus = value.get();
        pair[0].putScalar(i, original);
        double numeric = (plus - minus) / 2e-6;
        assertThat(Math.abs(numeric - pair[1].getDouble(i))).as("coordinate %d", i)
            .isLessThan(1e-8 + 1e-6 * Math.abs(numeric));
      }
    }
    // rows without a target get no gradient
    assertThat(gradHidden.getRow(1).amaxNumber().doubleValue()).isZero();
  }
}
