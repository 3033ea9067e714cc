package dev.reranker.config;

import org.apache.kafka.streams.KafkaStreams;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.kafka.config.StreamsBuilderFactoryBean;
import org.springframework.stereotype.Component;

/**
 * Liveness of the ingestion: DOWN once the Kafka Streams client has died (ERROR, or on its way
 * there) or stopped while the application still runs: it never recovers by itself, so the process
 * should be restarted (Kubernetes does that on a failed liveness probe). Before the client is
 * started and while the application shuts it down it counts as alive. Part of the liveness health
 * group.
 */
@Component("streams")
class StreamsLiveness implements HealthIndicator {

  private final StreamsBuilderFactoryBean streams;

  StreamsLiveness(StreamsBuilderFactoryBean streams) {
    this.streams = streams;
  }

  @Override
  public Health health() {
    KafkaStreams ks = streams.getKafkaStreams();
    KafkaStreams.State state = ks == null ? null : ks.state();
    boolean stopped = state == KafkaStreams.State.NOT_RUNNING
        || state == KafkaStreams.State.PENDING_SHUTDOWN;
    boolean dead = state == KafkaStreams.State.ERROR || state == KafkaStreams.State.PENDING_ERROR
        || (stopped && streams.isRunning()); // stopped, but not by the application's shutdown
    return (dead ? Health.down() : Health.up()).withDetail("kafkaStreams", String.valueOf(state))
        .build();
  }
}
