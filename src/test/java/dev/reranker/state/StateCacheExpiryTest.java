package dev.reranker.state;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reranker.data.EventType;
import dev.reranker.model.Arm;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.testing.ManualTime;
import dev.reranker.testing.TestModels;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code reranker.state.expire-after-access} with the cache's ticker moved by the test: an idle
 * state is dropped once the idle time has passed (not before), a state that is read stays, and a
 * dropped one is rebuilt from the stores on the next read, equal to what it was.
 */
class StateCacheExpiryTest {

  final ModelArtifacts.TrainedModel performer = TestModels.model(Arm.PERFORMER, 3);
  final ManualTime time = new ManualTime(1_767_225_600_000L);
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  final StateCache cache = new StateCache(64L << 20, Duration.ofMinutes(10), time);
  final UserStates states = new UserStates(new ModelRegistry(Map.of(Arm.PERFORMER,
      new ActiveModel(performer))), cache, time, UserStates.Settings.defaults(), registry);
  final InMemoryHistory history = new InMemoryHistory(10_000);

  @Test
  void idleStatesExpireAfterTheIdleTimeAndAreRebuiltEqual() {
    for (int i = 0; i < 30; i++) {
      history.append("idle", "i" + i, 1000L * i, EventType.VIEW);
      history.append("busy", "i" + (i + 3), 1000L * i, EventType.VIEW);
    }
    UserStates.Session session = states.session(history, null);
    float[] before = session.current("idle", Arm.PERFORMER).state().userVector();
    session.current("busy", Arm.PERFORMER);
    assertThat(registry.counter("reranker.state.rebuilds").count()).isEqualTo(2);

    time.advance(Duration.ofMinutes(6));
    session.current("busy", Arm.PERFORMER); // read: its idle time starts again
    cache.cleanUp();
    // (looked at through the map view: a getIfPresent would count as an access)
    assertThat(cache.entries(Arm.PERFORMER)).as("idle 6 of 10 min").containsKey("idle");

    time.advance(Duration.ofMinutes(5));
    cache.cleanUp();
    assertThat(cache.entries(Arm.PERFORMER)).as("idle 11 of 10 min").doesNotContainKey("idle")
        .as("busy, idle 5 min").containsKey("busy");

    CachedState rebuilt = session.current("idle", Arm.PERFORMER);
    assertThat(registry.counter("reranker.state.rebuilds").count()).isEqualTo(3);
    assertThat(rebuilt.historyPosition()).isEqualTo(30);
    assertThat(TestModels.maxDiff(rebuilt.state().userVector(), before)).isLessThan(1e-6);
  }
}
