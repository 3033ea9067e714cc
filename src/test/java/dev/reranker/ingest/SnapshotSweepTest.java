package dev.reranker.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.reranker.data.EventType;
import dev.reranker.data.Interaction;
import dev.reranker.data.Topics;
import dev.reranker.model.Arm;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.state.ActiveModel;
import dev.reranker.state.ModelRegistry;
import dev.reranker.state.StateCache;
import dev.reranker.state.UserStates;
import dev.reranker.testing.Drivers;
import dev.reranker.testing.ManualTime;
import dev.reranker.testing.TestModels;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The time-based snapshot sweep takes due users in slices and rotates the ones it leaves: with
 * several slices' worth due at once, every user is snapshotted within a few sweeps, none starved.
 * (How much one sweep writes depends on its time budget, so it is not asserted here.)
 */
class SnapshotSweepTest {

  static final long NOW = 1_767_225_600_000L;

  @TempDir
  Path stateDir;

  @Test
  void manyUsersDueAtOnceAreAllSnapshottedWithinAFewSweeps() {
    ModelArtifacts.TrainedModel performer = TestModels.model(Arm.PERFORMER, 7);
    ManualTime time = new ManualTime(NOW);
    UserStates states = new UserStates(new ModelRegistry(Map.of(Arm.PERFORMER,
        new ActiveModel(performer))), new StateCache(256L << 20, null, Ticker.systemTicker()),
        time, new UserStates.Settings(50, Duration.ofMinutes(1), 20, 8), null);
    IngestMetrics metrics = new IngestMetrics(new SimpleMeterRegistry());
    IngestSettings settings = new IngestSettings(Topics.INTERACTIONS, Topics.DEAD_LETTERS, 120,
        Duration.ofMinutes(5), 512, 1024, 16, Duration.ofMillis(50), Set.of(Arm.PERFORMER));
    StreamsBuilder builder = new StreamsBuilder();
    IngestTopology.build(builder, settings, states, metrics, time);
    int users = 3 * IngestProcessor.SWEEP_SLICE + 17;
    try (TopologyTestDriver driver = Drivers.open(builder, "sweep-test", stateDir)) {
      var input = Drivers.input(driver, Topics.INTERACTIONS);
      for (int u = 0; u < users; u++) {
        input.pipeInput("u" + u, IngestTopologyTest.json(new Interaction("u" + u, "i" + (u % 10),
            NOW - 100_000 + u, EventType.VIEW, "e" + u)));
      }
      driver.advanceWallClockTime(Duration.ofMillis(100)); // folded, nothing due yet
      KeyValueStore<Object, Object> snapshots = driver.getKeyValueStore(Topics.SNAPSHOT_STORE);
      assertThat(count(snapshots)).isZero();
      time.advance(Duration.ofMinutes(2)); // every user's unsaved event is now older than T
      int sweeps = 0;
      while (count(snapshots) < users && sweeps < 50) {
        driver.advanceWallClockTime(Duration.ofSeconds(5));
        sweeps++;
      }
      assertThat(count(snapshots)).as("users snapshotted after " + sweeps + " sweeps")
          .isEqualTo(users);
      assertThat(sweeps).isLessThanOrEqualTo(10);
    }
  }

  private static int count(KeyValueStore<Object, Object> store) {
    int n = 0;
    try (var it = store.all()) {
      while (it.hasNext()) {
        it.next();
        n++;
      }
    }
    return n;
  }
}
