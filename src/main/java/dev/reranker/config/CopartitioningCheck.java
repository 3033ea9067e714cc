package dev.reranker.config;

import java.util.Map;
import org.apache.kafka.clients.admin.TopicDescription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.kafka.core.KafkaAdmin;

/**
 * Refuses to start when the exposures and the interactions topics have different partition
 * counts. The outcome join reads both in one stream task per partition number; Kafka Streams
 * enforces co-partitioning for its joins, not for a merge, so with different counts a user's
 * exposures and interactions would land on different tasks and the experiment would silently see
 * no outcomes. (An interactions topic created earlier with another count than {@code
 * reranker.ingest.partitions} is how this happens: the exposures topic is then created with the
 * configured one.) Runs after the admin client has created missing topics and before Kafka
 * Streams starts.
 */
final class CopartitioningCheck implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(CopartitioningCheck.class);

  private final KafkaAdmin admin;
  private final String interactions;
  private final String exposures;
  private volatile boolean running;

  CopartitioningCheck(KafkaAdmin admin, String interactions, String exposures) {
    this.admin = admin;
    this.interactions = interactions;
    this.exposures = exposures;
  }

  @Override
  public void start() {
    running = true;
    Map<String, TopicDescription> topics;
    try {
      topics = admin.describeTopics(interactions, exposures);
    } catch (RuntimeException e) {
      // the broker away: Kafka Streams will wait for it and report; nothing to compare yet
      log.warn("could not compare the partition counts of {} and {}: {}", interactions,
          exposures, e.getMessage());
      return;
    }
    check(topics.get(interactions), topics.get(exposures));
  }

  void check(TopicDescription a, TopicDescription b) {
    if (a == null || b == null) {
      return;
    }
    if (a.partitions().size() != b.partitions().size()) {
      throw new IllegalStateException("topic " + exposures + " has " + b.partitions().size()
          + " partitions and " + interactions + " has " + a.partitions().size() + ": the outcome "
          + "join needs them co-partitioned (the same count, keyed by user); recreate "
          + exposures + " with " + a.partitions().size() + " partitions, or name another "
          + "reranker.experiments.exposures-topic");
    }
  }

  @Override
  public void stop() {
    running = false;
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  /** Before Kafka Streams (whose factory bean starts in a late phase). */
  @Override
  public int getPhase() {
    return 0;
  }
}
