package dev.reranker.ingest;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Copies a user-keyed topic into a new topic with another partition count, every record with its
 * key, value, headers and timestamp, each source partition in offset order. The producer's default
 * partitioner places a record by its key, as the engine's producers do, so a user's records land
 * in one partition of the new topic in the order they had: a Kafka Streams application started on
 * the copy ingests every user's history again exactly as the first time (the same validation, the
 * same deduplication by event id) and ends with the same states. That is the step that keeps the
 * histories when the partition count changes ({@code repartition}; docs/operations.md).
 *
 * <p>Resumable: what was copied is committed to the consumer group {@code
 * reranker-repartition-<to>} after the producer has flushed, so a second run copies only the
 * records that arrived since (run it once under traffic, then again for the tail with the
 * producers paused). A run that fails between the flush and the commit copies some records twice;
 * the engine drops a repeated event id (within the retained history). A source whose earliest
 * records were deleted by retention cannot give back the histories they held: the copy refuses
 * unless told to go on ({@code allowTruncated}).
 */
public final class TopicCopy {
  private TopicCopy() {}

  /** What one copy did. */
  public record Result(String from, String to, int fromPartitions, int toPartitions,
      long records, Map<Integer, Long> perSourcePartition, boolean created, double seconds) {}

  /** The consumer group that remembers how far a copy into {@code to} has gone. */
  public static String group(String to) {
    return "reranker-repartition-" + to;
  }

  public static Result copy(String bootstrapServers, String from, String to, int partitions,
      boolean allowTruncated, PrintStream log) throws InterruptedException {
    if (from.equals(to)) {
      throw new IllegalArgumentException("the copy must go into another topic than " + from);
    }
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be at least 1, got " + partitions);
    }
    long start = System.nanoTime();
    boolean created = false;
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
        bootstrapServers))) {
      Map<String, TopicDescription> source;
      try {
        source = admin.describeTopics(List.of(from)).allTopicNames().get(60, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        throw new IllegalStateException("cannot read topic " + from + ": "
            + e.getCause().getMessage(), e.getCause());
      }
      TopicDescription fromTopic = source.get(from);
      var existing = admin.listTopics().names().get(60, TimeUnit.SECONDS);
      if (existing.contains(to)) {
        int n = admin.describeTopics(List.of(to)).allTopicNames().get(60, TimeUnit.SECONDS)
            .get(to).partitions().size();
        if (n != partitions) {
          throw new IllegalStateException("topic " + to + " exists with " + n + " partitions, not "
              + partitions + ": name another target topic, or delete it if it is a failed "
              + "copy's");
        }
      } else {
        NewTopic t = new NewTopic(to, partitions,
            (short) fromTopic.partitions().get(0).replicas().size());
        t.configs(topicConfigs(admin, from));
        admin.createTopics(List.of(t)).all().get(60, TimeUnit.SECONDS);
        created = true;
      }
      Map<Integer, Long> perPartition = new java.util.TreeMap<>();
      long records = copyRecords(bootstrapServers, fromTopic, to, allowTruncated, perPartition,
          log);
      Result r = new Result(from, to, fromTopic.partitions().size(), partitions, records,
          perPartition, created, (System.nanoTime() - start) / 1e9);
      return r;
    } catch (ExecutionException e) {
      throw new IllegalStateException("copy of " + from + " into " + to + " failed: "
          + e.getCause().getMessage(), e.getCause());
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("no Kafka broker answered at " + bootstrapServers, e);
    }
  }

  /** The source's topic settings that were set on it (retention, compaction, …), for the copy. */
  private static Map<String, String> topicConfigs(Admin admin, String topic)
      throws InterruptedException, ExecutionException, java.util.concurrent.TimeoutException {
    ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    Config config = admin.describeConfigs(List.of(r)).all().get(60, TimeUnit.SECONDS).get(r);
    Map<String, String> out = new HashMap<>();
    for (ConfigEntry e : config.entries()) {
      if (e.source() == ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG && e.value() != null) {
        out.put(e.name(), e.value());
      }
    }
    return out;
  }

  private static long copyRecords(String bootstrapServers, TopicDescription from, String to,
      boolean allowTruncated, Map<Integer, Long> perPartition, PrintStream log) {
    List<TopicPartition> partitions = new ArrayList<>();
    from.partitions().forEach(p -> partitions.add(new TopicPartition(from.name(), p.partition())));
    Map<String, Object> consumerConfig = Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        ConsumerConfig.GROUP_ID_CONFIG, group(to),
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
        ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5_000);
    Map<String, Object> producerConfig = Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true, // keeps each partition's order on retries
        ProducerConfig.LINGER_MS_CONFIG, 20,
        ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
    AtomicReference<Exception> failed = new AtomicReference<>();
    long total = 0;
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerConfig,
        new ByteArrayDeserializer(), new ByteArrayDeserializer());
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerConfig,
            new ByteArraySerializer(), new ByteArraySerializer())) {
      consumer.assign(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      Map<TopicPartition, Long> beginning = consumer.beginningOffsets(partitions);
      Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(
          new java.util.HashSet<>(partitions));
      List<String> truncated = new ArrayList<>();
      for (TopicPartition tp : partitions) {
        OffsetAndMetadata c = committed.get(tp);
        if (c != null) {
          consumer.seek(tp, Math.max(c.offset(), beginning.get(tp)));
          if (c.offset() < beginning.get(tp)) {
            truncated.add(tp + " (copied up to " + c.offset() + ", now begins at "
                + beginning.get(tp) + ")");
          }
        } else {
          consumer.seek(tp, beginning.get(tp));
          if (beginning.get(tp) > 0) {
            truncated.add(tp + " (begins at offset " + beginning.get(tp) + ")");
          }
        }
      }
      if (!truncated.isEmpty() && !allowTruncated) {
        throw new IllegalStateException("records of " + from.name() + " were deleted by its "
            + "retention: " + truncated + ". The users whose earliest events they were would "
            + "get shorter histories on the new topic. Raise the topic's retention before it is "
            + "too late, or pass --allow-truncated to copy what is left");
      }
      long lastReport = System.nanoTime();
      while (true) {
        boolean done = true;
        for (TopicPartition tp : partitions) {
          if (consumer.position(tp) < end.get(tp)) {
            done = false;
          } else {
            consumer.pause(List.of(tp)); // nothing after the end captured at the start
          }
        }
        if (done) {
          break;
        }
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          if (r.offset() >= end.get(new TopicPartition(r.topic(), r.partition()))) {
            continue;
          }
          producer.send(new ProducerRecord<>(to, null, r.timestamp(), r.key(), r.value(),
              r.headers()), (m, e) -> {
                if (e != null) {
                  failed.compareAndSet(null, e);
                }
              });
          perPartition.merge(r.partition(), 1L, Long::sum);
          total++;
        }
        if (failed.get() != null) {
          break;
        }
        if (System.nanoTime() - lastReport > 5_000_000_000L) {
          log.printf("  %s → %s: %,d records copied%n", from.name(), to, total);
          lastReport = System.nanoTime();
        }
      }
      producer.flush();
      if (failed.get() != null) {
        throw new IllegalStateException("a record could not be written to " + to + ": "
            + failed.get().getMessage() + " (nothing was committed: run the copy again)",
            failed.get());
      }
      Map<TopicPartition, OffsetAndMetadata> copied = new HashMap<>();
      end.forEach((tp, offset) -> copied.put(tp, new OffsetAndMetadata(offset)));
      consumer.commitSync(copied);
    }
    return total;
  }
}
