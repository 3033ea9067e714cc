package dev.reranker.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reranker.gpu.Cublas;
import dev.reranker.gpu.GpuSettings;
import dev.reranker.testing.TestModels;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The compute seam: which backend {@code reranker.compute} picks and why, and the CPU backends
 * agreeing with the reference on both arms.
 */
class EncoderBackendsTest {

  private static final GpuSettings NO_DRIVER = new GpuSettings("/nonexistent/libcuda.so.1", null,
      4096, 0);

  private static EncoderBackends.Settings settings(EncoderBackends.Compute compute) {
    return new EncoderBackends.Settings(compute, NO_DRIVER, 64, Cublas.MathMode.FP32);
  }

  @Test
  void cpuIsTheDefaultAndTriesNothingElse() {
    ModelArtifacts.TrainedModel m = TestModels.model(Arm.PERFORMER, 3);
    EncoderBackends.Choice c = EncoderBackends.choose(EncoderBackends.Settings.cpu(),
        m.sequenceModel(), m.plainWeights());
    assertThat(c.backend().name()).isEqualTo("nd4j");
    assertThat(c.reason()).isEqualTo("reranker.compute=cpu");
  }

  @Test
  void autoWithoutADriverStaysOnTheCpuAndSaysWhy() {
    ModelArtifacts.TrainedModel m = TestModels.model(Arm.PERFORMER, 3);
    EncoderBackends.Choice c = EncoderBackends.choose(settings(EncoderBackends.Compute.AUTO),
        m.sequenceModel(), m.plainWeights());
    assertThat(c.backend().name()).isEqualTo("nd4j");
    assertThat(c.reason()).startsWith("reranker.compute=auto, no GPU: ")
        .contains("/nonexistent/libcuda.so.1: no such file");
  }

  @Test
  void gpuRequiredWithoutADriverIsAStartUpError() {
    ModelArtifacts.TrainedModel m = TestModels.model(Arm.PERFORMER, 3);
    assertThatThrownBy(() -> EncoderBackends.choose(settings(EncoderBackends.Compute.GPU),
        m.sequenceModel(), m.plainWeights())).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("reranker.compute=gpu, but the GPU cannot be used")
        .hasMessageContaining("no CUDA driver (libcuda.so.1) could be loaded");
  }

  @Test
  void theSoftmaxBaselineStaysOnTheCpuWhateverIsAskedFor() {
    ModelArtifacts.TrainedModel m = TestModels.model(Arm.SOFTMAX, 4);
    EncoderBackends.Choice c = EncoderBackends.choose(settings(EncoderBackends.Compute.GPU),
        m.sequenceModel(), m.plainWeights());
    assertThat(c.backend().name()).isEqualTo("nd4j");
    assertThat(c.reason()).contains("softmax baseline runs on the CPU");
  }

  @Test
  void parsesTheSetting() {
    assertThat(EncoderBackends.Compute.parse(" Auto ")).isEqualTo(EncoderBackends.Compute.AUTO);
    assertThatThrownBy(() -> EncoderBackends.Compute.parse("cuda"))
        .hasMessage("reranker.compute must be cpu, gpu or auto, got 'cuda'");
  }

  @Test
  void theNd4jBackendEqualsTheReferenceOnBothArms() {
    for (Arm arm : Arm.values()) {
      ModelArtifacts.TrainedModel m = TestModels.model(arm, 11);
      EncoderBackend reference = new ReferenceEncoderBackend(m.plainWeights());
      EncoderBackend nd4j = new Nd4jEncoderBackend(m.sequenceModel(), m.plainWeights());
      assertThat(maxDifference(m, reference, nd4j, new Random(5))).as(arm.wireName())
          .isLessThan(1e-4);
    }
  }

  /**
   * Folds the same random works (users with and without earlier events; windows of 1 to 300
   * events) through two backends; returns the largest difference of any state number or user
   * vector entry.
   */
  static double maxDifference(ModelArtifacts.TrainedModel m, EncoderBackend a, EncoderBackend b,
      Random random) {
    return maxDifference(m, a, b, random, 300);
  }

  /** As above with windows of at most {@code longest} events (1: one new event per user). */
  static double maxDifference(ModelArtifacts.TrainedModel m, EncoderBackend a, EncoderBackend b,
      Random random, int longest) {
    IncrementalEncoder encoder = new IncrementalEncoder(m.plainWeights());
    List<EncoderBackend.Work> left = new ArrayList<>();
    List<EncoderBackend.Work> right = new ArrayList<>();
    long now = 1_700_000_000_000L;
    for (int u = 0; u < 24; u++) {
      EncoderState start = encoder.newState();
      int earlier = m.config().arm() == Arm.PERFORMER ? random.nextInt(3) * 40 : 0;
      for (int i = 0; i < earlier; i++) {
        encoder.fold(start, random.nextInt(m.config().items()), now + 60_000L * i);
      }
      int length = 1 + (u % 4 == 0 ? random.nextInt(longest) : random.nextInt(Math.min(12,
          longest)));
      int[] items = new int[length];
      long[] times = new long[length];
      for (int i = 0; i < length; i++) {
        items[i] = random.nextInt(m.config().items());
        times[i] = now + 60_000L * (earlier + i) + random.nextInt(50_000);
      }
      left.add(new EncoderBackend.Work(start.copy(), items, times, 0,
          OrderSignal.NO_PREVIOUS));
      right.add(new EncoderBackend.Work(start.copy(), items, times, 0,
          OrderSignal.NO_PREVIOUS));
    }
    a.fold(left);
    b.fold(right);
    double max = 0;
    for (int u = 0; u < left.size(); u++) {
      EncoderState x = left.get(u).state();
      EncoderState y = right.get(u).state();
      assertThat(y.position()).isEqualTo(x.position());
      assertThat(y.lastTimestamp()).isEqualTo(x.lastTimestamp());
      max = Math.max(max, TestModels.maxDiff(x.userVector(), y.userVector()));
      if (m.config().arm() == Arm.PERFORMER) {
        for (int l = 0; l < x.layers(); l++) {
          dev.reranker.attention.FavorState fx = (dev.reranker.attention.FavorState) x.layer(l);
          dev.reranker.attention.FavorState fy = (dev.reranker.attention.FavorState) y.layer(l);
          assertThat(fy.position()).isEqualTo(fx.position());
          float[] sx = new float[fx.size()];
          float[] sy = new float[fy.size()];
          fx.copyTo(sx, 0);
          fy.copyTo(sy, 0);
          for (int i = 0; i < sx.length; i++) { // relative: S sums hundreds of features
            max = Math.max(max, Math.abs(sx[i] - sy[i]) / Math.max(1, Math.abs(sx[i])));
          }
        }
      }
    }
    return max;
  }
}
