package dev.reranker.config;

import static org.apache.kafka.streams.KafkaStreams.State.CREATED;
import static org.apache.kafka.streams.KafkaStreams.State.ERROR;
import static org.apache.kafka.streams.KafkaStreams.State.NOT_RUNNING;
import static org.apache.kafka.streams.KafkaStreams.State.PENDING_ERROR;
import static org.apache.kafka.streams.KafkaStreams.State.PENDING_SHUTDOWN;
import static org.apache.kafka.streams.KafkaStreams.State.REBALANCING;
import static org.apache.kafka.streams.KafkaStreams.State.RUNNING;
import static org.assertj.core.api.Assertions.assertThat;

import dev.reranker.ingest.RestorationTracker;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * Readiness waits for start-up (RUNNING with nothing restoring) once; after it, a rebalance does
 * not make the instance unready; a restoring store, shutting down or failing does.
 */
class ReadinessRuleTest {

  @Test
  void untilStartUpIsOverOnlyRunningWithNothingRestoringIsReady() {
    assertThat(EngineHealth.ready(true, false, RUNNING, 0, true, true)).isTrue();
    assertThat(EngineHealth.ready(true, false, RUNNING, 1, true, true)).isFalse();
    assertThat(EngineHealth.ready(true, false, REBALANCING, 0, true, true)).isFalse();
    assertThat(EngineHealth.ready(true, false, CREATED, 0, true, true)).isFalse();
    assertThat(EngineHealth.ready(true, false, null, 0, true, true)).isFalse();
  }

  @Test
  void afterStartUpARebalanceKeepsTheInstanceReadyARestoringStoreDoesNot() {
    assertThat(EngineHealth.ready(true, true, REBALANCING, 0, true, true)).isTrue();
    assertThat(EngineHealth.ready(true, true, RUNNING, 0, true, true)).isTrue();
    assertThat(EngineHealth.ready(true, true, REBALANCING, 3, true, true)).isFalse();
    assertThat(EngineHealth.ready(true, true, RUNNING, 2, true, true)).isFalse();
    for (var s : new org.apache.kafka.streams.KafkaStreams.State[] {PENDING_SHUTDOWN, NOT_RUNNING,
        PENDING_ERROR, ERROR}) {
      assertThat(EngineHealth.ready(true, true, s, 0, true, true)).as(s.name()).isFalse();
    }
  }

  @Test
  void modelsExperimentsAndTheBrokerAreRequiredAlways() {
    assertThat(EngineHealth.ready(false, true, RUNNING, 0, true, true)).isFalse();
    assertThat(EngineHealth.ready(true, true, RUNNING, 0, false, true)).isFalse();
    assertThat(EngineHealth.ready(true, true, RUNNING, 0, true, false)).isFalse();
  }

  @Test
  void startUpEndsAtTheFirstRunningWithNothingRestoring() {
    RestorationTracker restoration = new RestorationTracker();
    StreamsStartup startup = new StreamsStartup(restoration);
    startup.onChange(REBALANCING, CREATED);
    assertThat(startup.done()).isFalse();
    TopicPartition changelog = new TopicPartition("app-user-history-changelog", 0);
    restoration.onRestoreStart(changelog, "user-history", 0, 100);
    startup.onChange(RUNNING, REBALANCING);
    assertThat(startup.done()).as("RUNNING while a store restores").isFalse();
    restoration.onRestoreEnd(changelog, "user-history", 100);
    startup.onChange(REBALANCING, RUNNING);
    assertThat(startup.done()).isFalse();
    startup.onChange(RUNNING, REBALANCING);
    assertThat(startup.done()).isTrue();
    startup.onChange(REBALANCING, RUNNING);
    assertThat(startup.done()).as("latched").isTrue();
  }
}
