package dev.reranker.testing;

import dev.reranker.attention.FavorProjection;
import dev.reranker.attention.FeatureMap;
import dev.reranker.attention.GaussianSampler;
import dev.reranker.data.IdMap;
import dev.reranker.model.Arm;
import dev.reranker.model.Batch;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.model.ModelConfig;
import dev.reranker.model.ModelWeights;
import dev.reranker.model.OrderSignal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Small models with random (not initial) weights over items "i0" … "i{n−1}", for tests. */
public final class TestModels {
  private TestModels() {}

  public static final int ITEMS = 60;

  public static ModelArtifacts.TrainedModel model(Arm arm, long seed) {
    ModelConfig config = ModelConfig.builder(ITEMS, arm).dim(32).layers(2).heads(2).ffnDim(64)
        .kernel(FeatureMap.Kernel.SOFTMAX).features(32).rowNorms(FavorProjection.RowNorms.CHI)
        .chunk(64).dropout(0.1).seed(seed).build();
    ModelWeights w = ModelWeights.initialize(config);
    GaussianSampler g = new GaussianSampler(seed + 1);
    w.arrays().forEach((name, a) -> {
      if (a.size(0) == 1) {
        for (long i = 0; i < a.length(); i++) {
          a.putScalar(i, a.getDouble(i) + 0.2 * g.next());
        }
      }
    });
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < ITEMS; i++) {
      ids.add("i" + i);
    }
    return ModelArtifacts.TrainedModel.of(config, w, IdMap.of(ids), Map.of("test", true),
        Map.of());
  }

  /** The user vector of a batch encode of known items (ids "i…"), in order, from position 0. */
  public static float[] batchUserVector(ModelArtifacts.TrainedModel model, List<String> itemIds,
      List<Long> timestamps, long firstPosition, long previousTimestamp) {
    int[] items = new int[itemIds.size()];
    long[] times = new long[itemIds.size()];
    for (int i = 0; i < items.length; i++) {
      items[i] = model.items().indexOf(itemIds.get(i));
      times[i] = timestamps.get(i);
    }
    return model.sequenceModel().forward(Batch.of(List.of(new Batch.Window(items, times,
        firstPosition, previousTimestamp))), null).userVectors().dup('c').data().asFloat();
  }

  public static float[] batchUserVector(ModelArtifacts.TrainedModel model, List<String> itemIds,
      List<Long> timestamps) {
    return batchUserVector(model, itemIds, timestamps, 0, OrderSignal.NO_PREVIOUS);
  }

  public static double maxDiff(float[] a, float[] b) {
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(a[i] - b[i]));
    }
    return max;
  }
}
