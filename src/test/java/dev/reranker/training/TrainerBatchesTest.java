package dev.reranker.training;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reranker.attention.FavorProjection;
import dev.reranker.attention.FeatureMap;
import dev.reranker.model.Arm;
import dev.reranker.model.Batch;
import dev.reranker.model.ModelConfig;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How the trainer cuts windows into steps, with and without a limit on positions a step. */
class TrainerBatchesTest {

  private static LeaveOneOut.TrainSequence window(int length) {
    int[] items = new int[length + 1];
    long[] times = new long[length + 1];
    Batch.Window w = Batch.Window.lastEvents(items, times, length, length);
    return new LeaveOneOut.TrainSequence(w, new int[length]);
  }

  private static List<Integer> sizes(int maxBatchPositions, List<LeaveOneOut.TrainSequence> all) {
    ModelConfig model = ModelConfig.builder(10, Arm.PERFORMER).dim(8).layers(1).heads(1)
        .ffnDim(8).kernel(FeatureMap.Kernel.SOFTMAX).features(4)
        .rowNorms(FavorProjection.RowNorms.CHI).chunk(8).dropout(0).seed(1).build();
    TrainingConfig training = TrainingConfig.builder().batchSize(16)
        .maxBatchPositions(maxBatchPositions).build();
    Trainer trainer = new Trainer(model, training, new PrintStream(OutputStream.nullOutputStream()),
        false);
    return trainer.batches(all).stream().map(List::size).toList();
  }

  @Test
  void longWindowsAreSpreadOverStepsWhenPositionsAreLimited() {
    List<LeaveOneOut.TrainSequence> all = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      all.add(window(2000));
    }
    for (int i = 0; i < 20; i++) {
      all.add(window(10));
    }
    assertThat(sizes(0, all)).as("no limit: 16 windows a step").containsExactly(16, 7);
    // 3,200 positions: the 20 short windows in 16 + 4, each 2,000-event window alone
    assertThat(sizes(3200, all)).containsExactly(16, 4, 1, 1, 1);
    // a window longer than the limit still trains, alone
    assertThat(sizes(1000, all)).containsExactly(16, 4, 1, 1, 1);
  }

  @Test
  void aNegativeLimitIsRefused() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> TrainingConfig.builder()
        .maxBatchPositions(-1).build()).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxBatchPositions");
  }
}
