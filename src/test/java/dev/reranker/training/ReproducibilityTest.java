package dev.reranker.training;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reranker.attention.FavorProjection;
import dev.reranker.attention.FeatureMap;
import dev.reranker.data.Dataset;
import dev.reranker.data.SyntheticGenerator;
import dev.reranker.model.Arm;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.model.ModelConfig;
import dev.reranker.model.ModelWeights;
import java.io.PrintStream;
import org.junit.jupiter.api.Test;

/** Same seed and data → the same weights, bit for bit; another seed → other weights. */
class ReproducibilityTest {

  static ModelWeights train(long seed) {
    Dataset data = Dataset.build(new SyntheticGenerator(new SyntheticGenerator.Options(80, 10, 30,
        1, 2, 2, 4, 5)).generate(), 0);
    ModelConfig config = ModelConfig.builder(data.items().size(), Arm.PERFORMER).dim(16).layers(2)
        .heads(2).ffnDim(32).kernel(FeatureMap.Kernel.SOFTMAX).features(16)
        .rowNorms(FavorProjection.RowNorms.CHI).chunk(8).dropout(0.2).seed(seed).build();
    TrainingConfig training = TrainingConfig.builder().epochs(2).batchSize(8).learningRate(1e-3)
        .weightDecay(0.01).clipNorm(1.0).negatives(0).maxLength(20).wholeHistory(true).patience(5)
        .seed(seed).build();
    return new Trainer(config, training, new PrintStream(java.io.OutputStream.nullOutputStream()),
        false).train(data).weights();
  }

  @Test
  void sameSeedSameWeights() {
    ModelWeights a = train(3);
    ModelWeights b = train(3);
    for (String name : a.arrays().keySet()) {
      assertThat(b.get(name).data().asFloat()).as(name).isEqualTo(a.get(name).data().asFloat());
    }
    ModelWeights c = train(4);
    assertThat(c.get(ModelWeights.ITEM_EMBEDDING).data().asFloat())
        .isNotEqualTo(a.get(ModelWeights.ITEM_EMBEDDING).data().asFloat());
    // and so the content-addressed version is reproducible too
    ModelConfig config = ModelConfig
        .builder(a.get(ModelWeights.ITEM_EMBEDDING).rows(), Arm.PERFORMER)
        .dim(16).layers(2).heads(2).ffnDim(32).kernel(FeatureMap.Kernel.SOFTMAX).features(16)
        .rowNorms(FavorProjection.RowNorms.CHI).chunk(8).dropout(0.2).seed(3).build();
    assertThat(ModelArtifacts.versionOf(config, b)).isEqualTo(ModelArtifacts.versionOf(config, a));
  }
}
