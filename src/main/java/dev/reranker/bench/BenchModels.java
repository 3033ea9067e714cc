package dev.reranker.bench;

import dev.reranker.attention.FavorProjection;
import dev.reranker.attention.FeatureMap;
import dev.reranker.data.IdMap;
import dev.reranker.model.Arm;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.model.ModelConfig;
import dev.reranker.model.ModelWeights;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The service benchmarks' models, one per arm, of production size with random weights (the cost,
 * not the quality, is measured): 5,000 items, d = 64, 2 layers, 2 heads, m = 64.
 */
final class BenchModels {

  static final int ITEMS = 5_000;

  private BenchModels() {}

  /** Saves both arms' models under {@code work/models/<arm>}; returns the item ids. */
  static List<String> save(Path work, long seed, String purpose) throws IOException {
    List<String> items = new ArrayList<>();
    for (int i = 0; i < ITEMS; i++) {
      items.add("item-" + i);
    }
    for (Arm arm : Arm.values()) {
      ModelConfig c = ModelConfig.builder(ITEMS, arm).dim(64).layers(2).heads(2).ffnDim(256)
          .kernel(FeatureMap.Kernel.SOFTMAX).features(64).rowNorms(FavorProjection.RowNorms.CHI)
          .chunk(256).dropout(0.1).seed(seed + arm.ordinal()).build();
      ModelArtifacts.save(ModelArtifacts.TrainedModel.of(c, ModelWeights.initialize(c),
          IdMap.of(items), Map.of("purpose", purpose), Map.of()),
          work.resolve("models/" + arm.wireName()));
    }
    return items;
  }
}
