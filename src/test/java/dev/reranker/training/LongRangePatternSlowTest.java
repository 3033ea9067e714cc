package dev.reranker.training;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reranker.attention.FavorProjection;
import dev.reranker.attention.FeatureMap;
import dev.reranker.data.DataSource;
import dev.reranker.data.Dataset;
import dev.reranker.data.InteractionReaders;
import dev.reranker.model.Arm;
import dev.reranker.model.ModelConfig;
import dev.reranker.model.SequenceModel;
import java.io.IOException;
import java.io.PrintStream;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue 3: training on a small synthetic set recovers the planted long-range pattern. Every test
 * target is a planted target whose key is ≥ 6 events back (see {@code SyntheticGenerator}); the
 * popularity baseline cannot rank it at all.
 */
class LongRangePatternSlowTest {

  @ParameterizedTest
  @EnumSource(Arm.class)
  void modelRecoversThePlantedPattern(Arm arm) throws IOException {
    Dataset data = new DataSource("synthetic:small", InteractionReaders.Format.JSONL, 0).load()
        .dataset();
    ModelConfig config = ModelConfig.builder(data.items().size(), arm).dim(32).layers(2).heads(2)
        .ffnDim(128).kernel(FeatureMap.Kernel.SOFTMAX).features(32)
        .rowNorms(FavorProjection.RowNorms.CHI).chunk(256).dropout(0.1).seed(42).build();
    TrainingConfig training = TrainingConfig.builder().epochs(50).batchSize(16).learningRate(3e-3)
        .weightDecay(0).clipNorm(1.0).negatives(0).maxLength(200).wholeHistory(true).patience(50)
        .seed(42).build();
    PrintStream quiet = new PrintStream(java.io.OutputStream.nullOutputStream());
    Trainer.Result result = new Trainer(config, training, quiet, false).train(data);

    List<Evaluator.Case> test = LeaveOneOut.test(data, 200);
    Evaluator.Metrics model = Evaluator.evaluate(Evaluator.modelScorer(
        new SequenceModel(config, result.weights())), test, config.items(), 256, 1);
    Evaluator.Metrics popularity = Evaluator.evaluate(Evaluator.popularityScorer(
        LeaveOneOut.trainingCounts(data)), test, config.items(), 256, 1);
    System.out.printf("%s on synthetic:small: test HR@10 %.3f NDCG@10 %.3f (popularity %.3f), "
        + "best epoch %d%n", arm.wireName(), model.hr(), model.ndcg(), popularity.hr(),
        result.bestEpoch());
    assertThat(model.hr()).as("test HR@10").isGreaterThanOrEqualTo(0.9);
    assertThat(popularity.hr()).isLessThan(0.1);
  }
}
