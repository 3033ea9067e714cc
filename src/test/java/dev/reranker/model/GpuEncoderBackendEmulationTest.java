package dev.reranker.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reranker.gpu.Cublas;
import dev.reranker.gpu.GpuSettings;
import dev.reranker.testing.CudaEmulation;
import dev.reranker.testing.TestModels;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The GPU backend's Java side — FFM bindings, kernel argument structs, buffer offsets, launch
 * grids, GEMM argument order, pass planning and state transfer — run end to end on CPU against a
 * <b>host emulation</b> of the CUDA driver and cuBLAS ({@link CudaEmulation}), whose "kernels" are
 * the per-thread bodies of {@code favor_encoder.cu} compiled as C. Nothing here runs on a GPU;
 * gpu/device-check.sh does, on a lent H200.
 */
class GpuEncoderBackendEmulationTest {

  @Test
  void equalsTheReferenceOnBothKernelsAndFeatureCounts() throws Exception {
    for (ModelArtifacts.TrainedModel m : List.of(TestModels.model(Arm.PERFORMER, 3),
        ModelArtifacts.loadResource("models/demo-performer"))) {
      try (GpuEncoderBackend gpu = GpuEncoderBackend.open(m.plainWeights(),
          CudaEmulation.settings(4096), 64, Cublas.MathMode.FP32)) {
        assertThat(gpu.device()).contains("host emulation (not a GPU)");
        double diff = EncoderBackendsTest.maxDifference(m, new ReferenceEncoderBackend(
            m.plainWeights()), gpu, new Random(7));
        assertThat(diff).as("m = %d", m.config().features()).isLessThan(1e-4);
      }
    }
  }

  /**
   * The two scans: one new event per user (the service's micro-batch: the plain scan) and windows
   * no longer than a chunk, against windows of hundreds of events (the chunked scan).
   */
  @Test
  void bothScansEqualTheReference() throws Exception {
    ModelArtifacts.TrainedModel m = TestModels.model(Arm.PERFORMER, 5);
    try (GpuEncoderBackend gpu = GpuEncoderBackend.open(m.plainWeights(),
        CudaEmulation.settings(4096), 64, Cublas.MathMode.FP32)) {
      ReferenceEncoderBackend reference = new ReferenceEncoderBackend(m.plainWeights());
      for (int longest : new int[] {1, dev.reranker.gpu.CudaEncoder.CHUNK, 1000}) {
        assertThat(EncoderBackendsTest.maxDifference(m, reference, gpu, new Random(longest),
            longest)).as("windows ≤ %d", longest).isLessThan(1e-4);
      }
    }
  }

  /**
   * Passes smaller than the work: 5 users and 100 rows per pass, so windows are split across
   * passes (the state carried from one to the next) and users spread over many passes.
   */
  @Test
  void splitsWorkAcrossPassesExactly() throws Exception {
    ModelArtifacts.TrainedModel m = TestModels.model(Arm.PERFORMER, 9);
    try (GpuEncoderBackend gpu = GpuEncoderBackend.open(m.plainWeights(),
        CudaEmulation.settings(100), 5, Cublas.MathMode.FP32)) {
      assertThat(gpu.encoder().maxRows()).isEqualTo(100);
      assertThat(gpu.encoder().maxUsers()).isEqualTo(5);
      double diff = EncoderBackendsTest.maxDifference(m, new ReferenceEncoderBackend(
          m.plainWeights()), gpu, new Random(8));
      assertThat(diff).isLessThan(1e-4);
    }
  }

  @Test
  void autoPicksTheGpuWhenTheDriverLoads() throws Exception {
    ModelArtifacts.TrainedModel m = TestModels.model(Arm.PERFORMER, 3);
    GpuSettings emulated = CudaEmulation.settings(4096);
    EncoderBackends.Choice c = EncoderBackends.choose(new EncoderBackends.Settings(
        EncoderBackends.Compute.AUTO, emulated, 64, Cublas.MathMode.FP32), m.sequenceModel(),
        m.plainWeights());
    try (EncoderBackend backend = c.backend()) {
      assertThat(backend.name()).isEqualTo("gpu");
      assertThat(c.reason()).startsWith("reranker.compute=auto: host emulation (not a GPU)");
    }
  }
}
