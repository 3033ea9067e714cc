package dev.reranker.state;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.reranker.gpu.Cublas;
import dev.reranker.model.Arm;
import dev.reranker.model.EncoderBackends;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.testing.CudaEmulation;
import dev.reranker.testing.TestModels;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The state engine with its performer on the GPU backend (through the host emulation of CUDA,
 * not a GPU): catch-ups and cold rebuilds give the batch encoding of each user's known events,
 * exactly as on the CPU, and the softmax baseline stays on the CPU.
 */
class UserStatesOnGpuEmulationTest {

  @Test
  void catchUpOnTheGpuBackendEqualsBatchEncoding() throws Exception {
    ModelArtifacts.TrainedModel performer = TestModels.model(Arm.PERFORMER, 3);
    ModelArtifacts.TrainedModel softmax = TestModels.model(Arm.SOFTMAX, 4);
    EncoderBackends.Settings gpu = new EncoderBackends.Settings(EncoderBackends.Compute.GPU,
        CudaEmulation.settings(4096), 64, Cublas.MathMode.FP32);
    ActiveModel onGpu = new ActiveModel(performer, gpu);
    ActiveModel softmaxModel = new ActiveModel(softmax, gpu);
    assertThat(onGpu.backend().name()).isEqualTo("gpu");
    assertThat(softmaxModel.backend().name()).isEqualTo("nd4j");
    try (onGpu; softmaxModel) {
      UserStates shared = new UserStates(new ModelRegistry(Map.of(Arm.PERFORMER, onGpu,
          Arm.SOFTMAX, softmaxModel), gpu), new StateCache(64L << 20, null,
          Ticker.systemTicker()), Clock.systemUTC(), new UserStates.Settings(1000,
          Duration.ofHours(1), 20, 0), null); // batch threshold 0: every catch-up is batched
      InMemoryHistory history = new InMemoryHistory(10_000);
      UserStates.Session states = shared.session(history, new InMemorySnapshots());
      List<String> users = List.of("a", "b", "c", "d", "e");
      List<List<String[]>> known = new ArrayList<>();
      for (int u = 0; u < users.size(); u++) {
        known.add(UserStatesTest.feed(history, users.get(u), 20 + 90 * u, u)); // up to 380
      }
      states.catchUp(users, Arm.PERFORMER);
      for (int u = 0; u < users.size(); u++) {
        CachedState s = states.current(users.get(u), Arm.PERFORMER);
        assertThat(TestModels.maxDiff(s.state().userVector(), UserStatesTest.expected(performer,
            known.get(u)))).as("user %d", u).isLessThan(1e-4);
      }
      known.get(2).addAll(UserStatesTest.feed(history, "c", 11, 77));
      known.get(4).addAll(UserStatesTest.feed(history, "e", 3, 78));
      states.catchUp(List.of("c", "e"), Arm.PERFORMER);
      for (int u : new int[] {2, 4}) {
        CachedState s = states.current(users.get(u), Arm.PERFORMER);
        assertThat(TestModels.maxDiff(s.state().userVector(), UserStatesTest.expected(performer,
            known.get(u)))).as("user %d after more events", u).isLessThan(1e-4);
      }
    }
  }
}
