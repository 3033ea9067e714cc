package dev.reranker.training;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reranker.attention.FavorProjection;
import dev.reranker.attention.FeatureMap;
import dev.reranker.model.Arm;
import dev.reranker.model.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue 23: the Performer trains in memory linear in the window (FAVOR+ chunk by chunk), and the
 * exact softmax arm never holds a T × T matrix (block by block, each row's log-sum-exp kept). The
 * count is fixed by the shapes, so it is asserted, not timed: a T² term makes the per-position
 * ratio below ≈ 8 (measured 4.75 with one block as long as the window).
 */
class StepMemoryTest {

  private static ModelConfig model(Arm arm) {
    return ModelConfig.builder(50, arm).dim(16).layers(2).heads(2).ffnDim(32)
        .kernel(FeatureMap.Kernel.SOFTMAX).features(16).rowNorms(FavorProjection.RowNorms.CHI)
        .chunk(32).dropout(0.1).seed(3).build();
  }

  private static StepMemory.Measurement measure(Arm arm, int length) {
    return StepMemory.measure(model(arm), TrainingConfig.builder().batchSize(2).seed(5).build(),
        length, 1);
  }

  @ParameterizedTest
  @EnumSource(Arm.class)
  void workingMemoryPerPositionStaysFlatAsTheWindowGrows(Arm arm) {
    StepMemory.Measurement shorter = measure(arm, 256);
    StepMemory.Measurement longer = measure(arm, 2048);
    assertThat(shorter.stepBytes()).isPositive();
    assertThat(longer.stepBytes()).as("a longer window needs more").isGreaterThan(
        shorter.stepBytes());
    // 8× the window: a T² term would make this ratio ≈ 8, a T term keeps it ≈ 1
    assertThat(longer.bytesPerPosition() / shorter.bytesPerPosition())
        .as("%s bytes per position at 2,048 ÷ at 256", arm)
        .isBetween(0.8, arm == Arm.PERFORMER ? 1.25 : 1.5);
    assertThat(longer.parameterStateBytes()).isEqualTo(shorter.parameterStateBytes());
  }

  @Test
  void theCountDependsOnlyOnTheShapes() {
    assertThat(measure(Arm.PERFORMER, 300).stepBytes())
        .isEqualTo(measure(Arm.PERFORMER, 300).stepBytes());
  }
}
