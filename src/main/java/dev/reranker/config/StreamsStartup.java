package dev.reranker.config;

import dev.reranker.ingest.RestorationTracker;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.streams.KafkaStreams;

/**
 * Latches the end of this instance's start-up: the first time Kafka Streams reaches RUNNING with
 * none of its active stores restoring. Readiness waits for it once; after it, Kafka Streams'
 * REBALANCING does not take the instance out of the load balancer (a store restoring still does):
 * during a rebalance the tasks it keeps go on being served, and requests for users whose
 * partitions are moving are forwarded to their owner or answered degraded, which is what any
 * other instance would do with them. Readiness that followed REBALANCING would take every
 * instance out at once for the whole of a group change, and group changes of 5–30 s were seen in
 * the rolling-restart fault test, more than a Kubernetes readiness probe tolerates (2 × 5 s).
 *
 * <p>A state listener rather than a check in the health probe, so that a RUNNING window shorter
 * than the probe period still counts. Thread-safe.
 */
final class StreamsStartup implements KafkaStreams.StateListener {

  private final RestorationTracker restoration;
  private final AtomicBoolean done = new AtomicBoolean();

  StreamsStartup(RestorationTracker restoration) {
    this.restoration = restoration;
  }

  @Override
  public void onChange(KafkaStreams.State newState, KafkaStreams.State oldState) {
    if (newState == KafkaStreams.State.RUNNING && restoration.restoring() == 0) {
      done.set(true);
    }
  }

  /** Records that start-up is over (the health check saw RUNNING with nothing restoring). */
  void markDone() {
    done.set(true);
  }

  boolean done() {
    return done.get();
  }
}
