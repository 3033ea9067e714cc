package dev.reranker.training;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reranker.attention.FavorProjection;
import dev.reranker.attention.FeatureMap;
import dev.reranker.data.Dataset;
import dev.reranker.data.SyntheticGenerator;
import dev.reranker.model.Arm;
import dev.reranker.model.ModelConfig;
import dev.reranker.model.ModelWeights;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The data-parallel step against the one-thread step: the shards' gradients add up to the whole
 * batch's (both arms, both losses, shards of unequal length), and a run on several threads is
 * reproducible bit for bit.
 */
class DataParallelStepTest {

  static Dataset data() {
    return Dataset.build(new SyntheticGenerator(new SyntheticGenerator.Options(60, 12, 40, 1, 2, 2,
        4, 5)).generate(), 0);
  }

  static ModelConfig config(Dataset data, Arm arm, double dropout, long seed) {
    return ModelConfig.builder(data.items().size(), arm).dim(16).layers(2).heads(2).ffnDim(32)
        .kernel(FeatureMap.Kernel.SOFTMAX).features(16).rowNorms(FavorProjection.RowNorms.CHI)
        .chunk(8).dropout(dropout).seed(seed).build();
  }

  /** Loss and gradients of one batch computed on {@code threads} workers. */
  static double gradients(ModelConfig config, ModelWeights weights, ModelWeights grads,
      List<LeaveOneOut.TrainSequence> chunk, int[] negatives, int threads) {
    TrainingConfig training = TrainingConfig.builder().threads(threads).seed(7).build();
    try (DataParallelStep step = new DataParallelStep(config, weights, grads, training)) {
      return step.lossAndGradients(chunk, negatives);
    }
  }

  @ParameterizedTest
  @EnumSource(Arm.class)
  void theShardsAddUpToTheWholeBatch(Arm arm) {
    Dataset data = data();
    ModelConfig config = config(data, arm, 0, 5); // no dropout: the same function on every shard
    ModelWeights weights = ModelWeights.initialize(config);
    // seven windows of different lengths: shards of 3 + 4, 2 + 2 + 3, uneven padding
    List<LeaveOneOut.TrainSequence> all = LeaveOneOut.training(data, 30, true);
    List<LeaveOneOut.TrainSequence> chunk = List.of(all.get(0), all.get(3), all.get(5),
        all.get(8), all.get(13), all.get(21), all.get(34));
    assertThat(chunk.stream().mapToInt(s -> s.targets().length).distinct().count())
        .as("windows of several lengths").isGreaterThan(1);
    for (int[] negatives : new int[][] {null, {1, 4, 9, 16, 25, 30, 2, 11}}) {
      ModelWeights one = weights.zerosLike();
      double lossOne = gradients(config, weights, one, chunk, negatives, 1);
      for (int threads : new int[] {2, 3, 8}) {
        ModelWeights many = weights.zerosLike();
        many.get(ModelWeights.ITEM_EMBEDDING).assign(123); // stale values must not survive
        double lossMany = gradients(config, weights, many, chunk, negatives, threads);
        assertThat(lossMany).as("%s threads", threads)
            .isCloseTo(lossOne, org.assertj.core.data.Offset.offset(1e-5 * Math.abs(lossOne)));
        for (String name : one.arrays().keySet()) {
          float[] a = one.get(name).data().asFloat();
          float[] b = many.get(name).data().asFloat();
          double scale = 0;
          double diff = 0;
          for (int i = 0; i < a.length; i++) {
            scale = Math.max(scale, Math.abs(a[i]));
            diff = Math.max(diff, Math.abs(a[i] - b[i]));
          }
          assertThat(diff).as("%s, %d threads, %s", name, threads,
              negatives == null ? "full softmax" : "sampled").isLessThanOrEqualTo(
              1e-4 * scale + 1e-7);
        }
      }
      assertThat(one.get(ModelWeights.ITEM_EMBEDDING).norm2Number().doubleValue()).isPositive();
    }
  }

  static ModelWeights train(int threads, int negatives) {
    Dataset data = data();
    ModelConfig config = config(data, Arm.PERFORMER, 0.2, 3);
    TrainingConfig training = TrainingConfig.builder().epochs(2).batchSize(8).learningRate(1e-3)
        .weightDecay(0.01).clipNorm(1.0).negatives(negatives).maxLength(20).wholeHistory(true)
        .patience(5).seed(3).threads(threads).build();
    return new Trainer(config, training, new PrintStream(OutputStream.nullOutputStream()), false)
        .train(data).weights();
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 10})
  void severalThreadsAreReproducibleBitForBit(int negatives) {
    ModelWeights a = train(2, negatives);
    ModelWeights b = train(2, negatives);
    for (String name : a.arrays().keySet()) {
      assertThat(b.get(name).data().asFloat()).as(name).isEqualTo(a.get(name).data().asFloat());
    }
    // another thread count draws other dropout masks: another (equally valid) model
    ModelWeights one = train(1, negatives);
    assertThat(one.get(ModelWeights.ITEM_EMBEDDING).data().asFloat())
        .isNotEqualTo(a.get(ModelWeights.ITEM_EMBEDDING).data().asFloat());
  }
}
