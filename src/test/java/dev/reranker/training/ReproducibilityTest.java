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
    ModelConfig config = new ModelConfig(data.items().size(), 16, 2, 2, 32, Arm.PERFORMER,
        FeatureMap.Kernel.SOFTMAX, 16, FavorProjection.RowNorms.CHI, 8, 0.2, seed);
    TrainingConfig training = new TrainingConfig(2, 8, 1e-3, 0.01, 1.0, 0, 20, true, 5, seed);
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
    ModelConfig config = new ModelConfig(a.get(ModelWeights.ITEM_EMBEDDING).rows(), 16, 2, 2, 32,
        Arm.PERFORMER, FeatureMap.Kernel.SOFTMAX, 16, FavorProjection.RowNorms.CHI, 8, 0.2, 3);
    assertThat(ModelArtifacts.versionOf(config, b)).isEqualTo(ModelArtifacts.versionOf(config, a));
  }
}
