package dev.reranker.config;

import dev.reranker.experiment.ExperimentLog;
import dev.reranker.ingest.RestorationTracker;
import dev.reranker.model.Arm;
import dev.reranker.state.ActiveModel;
import dev.reranker.state.UserStates;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.kafka.config.StreamsBuilderFactoryBean;
import org.springframework.stereotype.Component;

/**
 * Readiness of the engine: every configured model loaded and warmed up (its encoder and batched
 * pass run once, so the first request does not pay for JIT and ND4J initialisation), start-up
 * over ({@link StreamsStartup}: Kafka Streams RUNNING once with none of this instance's active
 * stores still restoring from its changelog — restoration runs on Streams' state updater thread,
 * and a request served while it runs would see a partial history; with Kafka 4.1 RUNNING was
 * measured to come after restoration, but that is not a documented promise, so readiness asks the
 * restore listener) and, after it, Kafka Streams RUNNING or REBALANCING (a group change does not
 * take every instance out of the balancer at once; see {@link StreamsStartup}) with no active
 * store restoring (a partition moving here with a changelog to restore), the shared
 * experiment changes read (else users could be assigned by the configured weights for a moment),
 * and the Kafka cluster reachable ({@link BrokerReachability}; Streams stays RUNNING through a
 * broker outage, retrying, so it does not tell; {@code reranker.kafka.readiness-requires-broker=false}
 * leaves this out). Part of the readiness health group; its details are shown only to admin
 * callers ({@code show-details: when-authorized}).
 */
@Component("engine")
class EngineHealth implements HealthIndicator, SmartInitializingSingleton {

  private static final Logger log = LoggerFactory.getLogger(EngineHealth.class);

  private final UserStates states;
  private final StreamsBuilderFactoryBean streams;
  private final ExperimentLog experiments;
  private final RestorationTracker restoration;
  private final BrokerReachability broker;
  private final StreamsStartup startup;
  private final boolean requireBroker;
  private final AtomicBoolean warmed = new AtomicBoolean();
  private final AtomicBoolean lastReady = new AtomicBoolean();

  EngineHealth(UserStates states, StreamsBuilderFactoryBean streams, ExperimentLog experiments,
      RestorationTracker restoration, BrokerReachability broker, StreamsStartup startup,
      RerankerProperties properties) {
    this.states = states;
    this.startup = startup;
    this.broker = broker;
    this.requireBroker = properties.kafka().readinessRequiresBroker();
    this.streams = streams;
    this.experiments = experiments;
    this.restoration = restoration;
  }

  @Override
  public void afterSingletonsInstantiated() {
    long start = System.nanoTime();
    for (Map.Entry<Arm, ActiveModel> e : states.models().all().entrySet()) {
      e.getValue().warmUp();
    }
    warmed.set(true);
    log.info("models warmed up in {} ms: {}", (System.nanoTime() - start) / 1_000_000,
        states.models().all().values().stream().map(ActiveModel::version).toList());
  }

  /**
   * Input records this instance's active tasks have not committed yet (end offset as last fetched
   * minus committed offset, summed). Readiness does not wait for it — after an outage every
   * instance would stay unready until its backlog is gone — but a large value says that the
   * states served are behind the topic (an instance catching up after a restart).
   */
  static long inputLag(KafkaStreams ks) {
    long lag = 0;
    try {
      for (var thread : ks.metadataForLocalThreads()) {
        for (var task : thread.activeTasks()) {
          for (var e : task.endOffsets().entrySet()) {
            Long committed = task.committedOffsets().get(e.getKey());
            if (e.getValue() != null && committed != null && committed >= 0) {
              lag += Math.max(0, e.getValue() - committed);
            }
          }
        }
      }
    } catch (RuntimeException e) {
      return -1; // not available in this state
    }
    return lag;
  }

  /**
   * The readiness rule. Nothing of this instance's active stores restoring, ever (a request
   * served meanwhile could see a partial history). Until start-up is over: Kafka Streams RUNNING.
   * After it: RUNNING or REBALANCING; any other state (shutting down, failed) is not ready.
   */
  static boolean ready(boolean warmed, boolean startedUp, KafkaStreams.State state,
      int restoring, boolean experimentsRead, boolean brokerOk) {
    if (!warmed || !experimentsRead || !brokerOk || state == null || restoring > 0) {
      return false;
    }
    if (!startedUp) {
      return state == KafkaStreams.State.RUNNING;
    }
    return state == KafkaStreams.State.RUNNING || state == KafkaStreams.State.REBALANCING;
  }

  @Override
  public Health health() {
    KafkaStreams ks = streams.getKafkaStreams();
    KafkaStreams.State state = ks == null ? null : ks.state();
    boolean experimentsRead = experiments.caughtUp();
    int restoring = restoration.restoring();
    boolean brokerReachable = broker.reachable();
    if (state == KafkaStreams.State.RUNNING && restoring == 0) {
      startup.markDone();
    }
    boolean ready = ready(warmed.get(), startup.done(), state, restoring, experimentsRead,
        brokerReachable || !requireBroker);
    if (lastReady.getAndSet(ready) != ready) {
      // a person reading the log at 3 a.m. sees when and why readiness changed (observed when a
      // probe asks: the change happened at most one probe period earlier)
      log.info("readiness {}: models warmed {}, started up {}, Kafka Streams {}, restoring "
          + "stores {}, experiments read {}, Kafka reachable {}", ready ? "UP" : "DOWN",
          warmed.get(), startup.done(), state, restoring, experimentsRead, brokerReachable);
    }
    Health.Builder b = ready ? Health.up() : Health.outOfService();
    b.withDetail("modelsWarmed", warmed.get())
        .withDetail("startedUp", startup.done())
        .withDetail("kafkaStreams", String.valueOf(state))
        .withDetail("restoringStores", restoring)
        .withDetail("restoreRecordsRemaining", restoration.remainingRecords())
        .withDetail("inputLagRecords", ks == null ? -1 : inputLag(ks))
        .withDetail("experimentsRead", experimentsRead)
        .withDetail("brokerReachable", brokerReachable)
        .withDetail("brokerLastReachedMsAgo", broker.millisSinceReached());
    states.models().all().forEach((arm, m) -> b.withDetail("model." + arm.wireName(), m.version()));
    return b.build();
  }
}
