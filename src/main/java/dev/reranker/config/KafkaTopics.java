package dev.reranker.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * The engine's topics, as it needs them, checked before anything reads or writes them: a
 * partition count that differs from the plan refuses the start with one message naming every
 * topic, its count and what to do, before anything is created; otherwise missing topics are
 * created. An existing topic is <em>never</em> changed.
 *
 * <p>Why never change one: growing a keyed topic moves users to other partitions, away from their
 * histories, and Kafka Streams' changelogs keep the old count, so the stream client stops on its
 * first rebalance and no user has a history any more. Spring's {@code KafkaAdmin} did exactly that
 * for {@code NewTopic} beans ("exists but has a different partition count … increasing"), and
 * setting the count back could not shrink them again. A partition count is changed by the
 * documented procedure instead ({@code docs/operations.md}, the {@code repartition} command), which
 * keeps every user's history.
 *
 * <p>What is compared: every user-keyed topic ({@link Plan#byUser}) against the configured count;
 * the application's internal topics ({@code <application.id>-…-changelog}, {@code …-repartition})
 * against the interactions' actual count (Kafka Streams requires it; a changelog with another count
 * stops the stream client); the one-partition topics ({@link Plan#single}) against one. Runs before
 * Kafka Streams and before the experiments' reader (phase {@value #PHASE}). When no broker answers
 * within the timeout nothing can be compared: a warning, and Kafka Streams waits for the broker
 * as before.
 */
final class KafkaTopics implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(KafkaTopics.class);
  /** Before Kafka Streams (its factory bean starts at DEFAULT_PHASE − 4096) and everything else. */
  static final int PHASE = 0;
  /** Where an operator reads how to change a partition count. */
  static final String PROCEDURE = "docs/operations.md, \"Changing the partition count\"";

  /**
   * The topics the engine uses.
   *
   * @param byUser user-keyed topics, all with {@code partitions} (co-partitioned: the outcome join
   *     reads the exposures with the ingestion's output, an internal topic Kafka Streams sizes as
   *     the interactions, partition p of both in one task)
   * @param partitions the configured count ({@code reranker.ingest.partitions})
   * @param single one-partition topics (one order), compacted where named in {@code compacted}
   * @param compacted topics created with {@code cleanup.policy=compact}
   * @param replication the replication factor new topics get
   * @param applicationId Kafka Streams' application id: its internal topics begin with it
   */
  record Plan(List<String> byUser, int partitions, List<String> single, Set<String> compacted,
      short replication, String applicationId) {
    Plan {
      if (partitions < 1) {
        throw new IllegalArgumentException("reranker.ingest.partitions must be at least 1, got "
            + partitions);
      }
      byUser = List.copyOf(byUser);
      single = List.copyOf(single);
      compacted = Set.copyOf(compacted);
    }

    /** The interactions: the first user-keyed topic. */
    String interactions() {
      return byUser.get(0);
    }
  }

  private final Plan plan;
  private final Map<String, Object> adminConfig;
  private final long timeoutMillis;
  private volatile boolean running;

  KafkaTopics(Plan plan, Map<String, Object> adminConfig, java.time.Duration timeout) {
    this.plan = plan;
    this.adminConfig = adminConfig;
    this.timeoutMillis = timeout.toMillis();
  }

  @Override
  public void start() {
    Map<String, Object> config = new LinkedHashMap<>(adminConfig);
    config.put(AdminClientConfig.CLIENT_ID_CONFIG, "reranker-topic-check");
    config.putIfAbsent(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeoutMillis);
    try (Admin admin = Admin.create(config)) {
      ensure(admin);
    } catch (TimeoutException e) {
      log.warn("no Kafka broker answered within {} ms: the partition counts of {} could not be "
          + "checked and missing topics were not created", timeoutMillis, plan.byUser());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while checking the topics", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException) {
        log.warn("no Kafka broker answered within {} ms: the partition counts of {} could not be "
            + "checked and missing topics were not created", timeoutMillis, plan.byUser());
      } else {
        throw new IllegalStateException("could not check the engine's topics: "
            + e.getCause().getMessage(), e.getCause());
      }
    }
    running = true;
  }

  /**
   * Compares the existing topics with the plan, then creates what is missing; throws {@link
   * PartitionMismatch} on a difference, before anything is created.
   */
  void ensure(Admin admin) throws InterruptedException, ExecutionException, TimeoutException {
    Set<String> existing = admin.listTopics().names().get(timeoutMillis, TimeUnit.MILLISECONDS);
    String prefix = plan.applicationId() + "-";
    List<String> internal = existing.stream().filter(n -> n.startsWith(prefix)
        && (n.endsWith("-changelog") || n.endsWith("-repartition"))).sorted().toList();
    List<String> described = new ArrayList<>(internal);
    List<NewTopic> missing = new ArrayList<>();
    for (String t : plan.byUser()) {
      if (existing.contains(t)) {
        described.add(t);
      } else {
        missing.add(newTopic(t, plan.partitions()));
      }
    }
    for (String t : plan.single()) {
      if (existing.contains(t)) {
        described.add(t);
      } else {
        missing.add(newTopic(t, 1));
      }
    }
    Map<String, Integer> counts = new TreeMap<>();
    admin.describeTopics(described).allTopicNames().get(timeoutMillis, TimeUnit.MILLISECONDS)
        .forEach((name, d) -> counts.put(name, d.partitions().size()));
    check(counts, internal);
    for (NewTopic t : missing) {
      try {
        admin.createTopics(List.of(t)).all().get(timeoutMillis, TimeUnit.MILLISECONDS);
        log.info("created topic {} with {} partition(s)", t.name(), t.numPartitions());
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw e;
        }
        // another instance created it meanwhile, with the same plan
      }
    }
  }

  /**
   * Compares the actual counts with the plan.
   *
   * @param counts partitions per topic, every planned topic and every internal one
   * @param internal the application's internal topics among them
   */
  void check(Map<String, Integer> counts, List<String> internal) {
    List<String> problems = new ArrayList<>();
    for (String t : plan.byUser()) {
      Integer n = counts.get(t);
      if (n != null && n != plan.partitions()) {
        problems.add(t + " has " + n + " partitions, the configuration says "
            + plan.partitions());
      }
    }
    for (String t : plan.single()) {
      Integer n = counts.get(t);
      if (n != null && n != 1) {
        problems.add(t + " has " + n + " partitions, it must have 1 (one order)");
      }
    }
    // the interactions as they are, or as they will be created
    Integer input = counts.getOrDefault(plan.interactions(), plan.partitions());
    for (String t : internal) {
      Integer n = counts.get(t);
      if (n != null && !n.equals(input)) {
        problems.add("Kafka Streams' " + t + " has " + n + " partitions, the input "
            + plan.interactions() + " has " + input);
      }
    }
    if (!problems.isEmpty()) {
      throw new PartitionMismatch(problems, plan, counts.get(plan.interactions()));
    }
  }

  private NewTopic newTopic(String name, int partitions) {
    NewTopic t = new NewTopic(name, partitions, plan.replication());
    if (plan.compacted().contains(name)) {
      t.configs(Map.of("cleanup.policy", "compact"));
    }
    return t;
  }

  /** The start refused: the topics' partition counts are not what the engine was started with. */
  static final class PartitionMismatch extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    PartitionMismatch(List<String> problems, Plan plan, Integer actual) {
      super(message(problems, plan, actual));
    }

    private static String message(List<String> problems, Plan plan, Integer actual) {
      StringBuilder b = new StringBuilder("refusing to start: the topics' partition counts do not "
          + "match (nothing was changed):");
      for (String p : problems) {
        b.append("\n  - ").append(p);
      }
      b.append("\nUser-keyed topics and the stream application's changelogs must all have the "
          + "same count: a user's partition decides where their history and state live, so a "
          + "topic is never grown or shrunk in place.");
      if (actual != null && actual != plan.partitions()) {
        b.append("\nTo keep running as before, start with reranker.ingest.partitions=")
            .append(actual).append('.');
      }
      b.append("\nTo change the partition count keeping every user's history and state, follow ")
          .append(PROCEDURE).append(" (the repartition command copies the topics into new ones "
              + "with the new count; the engine then starts on those under a new "
              + "application id). An exposures topic created by hand with another count "
              + "than the interactions is not co-partitioned with them: recreate it.");
      return b.toString();
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

  @Override
  public int getPhase() {
    return PHASE;
  }
}
