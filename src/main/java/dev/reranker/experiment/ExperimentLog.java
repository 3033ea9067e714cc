package dev.reranker.experiment;

import java.time.Duration;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * Shares experiment changes between instances through a compacted, single-partition topic
 * ({@value dev.reranker.data.Topics#EXPERIMENTS} unless configured): the admin API's changes are
 * written whole, keyed by experiment id (id, salt, weights, shadow, k and the bucket table, since
 * an allocation depends on the history of weight changes and cannot be recomputed from the
 * weights); every instance reads the topic from the
 * beginning, at start-up and then as it grows, and applies each record to its registry.
 *
 * <p>So every instance assigns users alike, admin changes survive restarts, and an instance
 * started later catches up. What the topic holds for an id wins over the {@code config/}
 * definition of the same id. Two admins changing the same experiment at once through different
 * instances: the record written last wins everywhere (each instance keeps, per id, the version at the
 * highest offset it has seen, its own writes included). A record that cannot be read is logged with
 * its offset and reason and skipped; tombstones are ignored (experiments are not deleted).
 */
public final class ExperimentLog implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ExperimentLog.class);
  private static final ObjectMapper JSON = JsonMapper.builder().build();

  /** An experiment as written to the topic (format {@code version} 1). */
  record Shared(int version, String id, String salt, Map<String, Double> weights, boolean shadow,
      int k, String buckets) {}

  private final ExperimentRegistry registry;
  private final String topic;
  private final Map<String, Object> consumerConfig;
  private final CountDownLatch caughtUp = new CountDownLatch(1);
  private final AtomicLong skipped = new AtomicLong();
  private volatile boolean running;
  private volatile KafkaConsumer<String, String> consumer;
  private Thread thread;

  /** @param consumerConfig Kafka consumer settings (bootstrap servers at least) */
  public ExperimentLog(ExperimentRegistry registry, String topic,
      Map<String, Object> consumerConfig) {
    this.registry = registry;
    this.topic = topic;
    Map<String, Object> c = new LinkedHashMap<>(consumerConfig);
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.remove(ConsumerConfig.GROUP_ID_CONFIG); // assigned, not subscribed: every instance reads all
    this.consumerConfig = c;
  }

  public static String toJson(Experiment e) {
    Map<String, Double> weights = new LinkedHashMap<>();
    e.weights().forEach((arm, w) -> weights.put(arm.wireName(), w));
    return JSON.writeValueAsString(new Shared(1, e.id(), e.salt(), weights, e.shadow(), e.k(),
        e.allocation().encode()));
  }

  /** @throws IllegalArgumentException with the reason when the text is no shared experiment */
  public static Experiment fromJson(String text) {
    Shared s;
    try {
      s = JSON.readValue(text, Shared.class);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("not an experiment record: " + e.getMessage(), e);
    }
    if (s == null || s.version() != 1) {
      throw new IllegalArgumentException("unsupported experiment record version "
          + (s == null ? "none" : s.version()));
    }
    if (s.salt() == null || s.weights() == null) {
      throw new IllegalArgumentException("an experiment record needs salt and weights");
    }
    Map<ArmChoice, Double> weights = new EnumMap<>(ArmChoice.class);
    s.weights().forEach((arm, w) -> {
      if (w == null || !(w >= 0)) {
        throw new IllegalArgumentException("weight of " + arm + " must be ≥ 0, got " + w);
      }
      weights.put(ArmChoice.parse(arm), w);
    });
    return new Experiment(s.id(), s.salt(), weights, BucketAllocation.decode(s.buckets()),
        s.shadow(), s.k());
  }

  /** Starts reading the topic (a daemon thread). */
  public synchronized void start() {
    if (running) {
      return;
    }
    running = true;
    thread = new Thread(this::run, "experiment-log");
    thread.setDaemon(true);
    thread.start();
  }

  /** Waits until what the topic held at start-up has been applied; false on timeout. */
  public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
    return caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** True once what the topic held at start-up has been applied. */
  public boolean caughtUp() {
    return caughtUp.getCount() == 0;
  }

  /** Records that could not be read. */
  public long skipped() {
    return skipped.get();
  }

  /** Reads until closed; a failure (the broker away, the topic not there yet) is retried. */
  private void run() {
    while (running) {
      try {
        read();
      } catch (WakeupException e) {
        return; // closing
      } catch (RuntimeException e) {
        if (!running) {
          return;
        }
        log.warn("reading {} failed ({}); retrying in 1 s", topic, e.toString());
        try {
          Thread.sleep(1_000);
        } catch (InterruptedException ie) {
          return;
        }
      }
    }
  }

  private void read() {
    TopicPartition partition = new TopicPartition(topic, 0);
    try (KafkaConsumer<String, String> c = new KafkaConsumer<>(consumerConfig,
        new StringDeserializer(), new StringDeserializer())) {
      consumer = c;
      if (!running) {
        return; // closed while the consumer was being created
      }
      c.assign(List.of(partition));
      c.seekToBeginning(List.of(partition));
      long end = c.endOffsets(List.of(partition)).getOrDefault(partition, 0L);
      if (end == 0) {
        caughtUp.countDown();
      }
      while (running) {
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) {
          apply(r);
        }
        if (caughtUp.getCount() > 0 && c.position(partition) >= end) {
          caughtUp.countDown();
        }
      }
    } finally {
      consumer = null;
    }
  }

  private void apply(ConsumerRecord<String, String> r) {
    if (r.value() == null) {
      return; // a tombstone: experiments are not deleted
    }
    try {
      Experiment e = fromJson(r.value());
      if (r.key() != null && !r.key().equals(e.id())) {
        throw new IllegalArgumentException("key '" + r.key() + "' is not the experiment's id '"
            + e.id() + "'");
      }
      registry.apply(e, r.offset());
    } catch (IllegalArgumentException ex) {
      skipped.incrementAndGet();
      log.warn("skipped {} record at offset {}: {}", topic, r.offset(), ex.getMessage());
    }
  }

  @Override
  public void close() {
    running = false;
    KafkaConsumer<String, String> c = consumer;
    if (c != null) {
      c.wakeup();
    }
    if (thread != null) {
      try {
        thread.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
