package dev.reranker.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.reranker.data.EventType;
import dev.reranker.data.Interaction;
import dev.reranker.data.InteractionJson;
import dev.reranker.data.Topics;
import dev.reranker.model.Arm;
import dev.reranker.state.CachedState;
import dev.reranker.state.UserStates;
import dev.reranker.testing.EngineHarness;
import dev.reranker.testing.TestModels;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Issue 4, through a real broker and the real service: 10,000 events for 100 users end in states
 * equal to batch encoding (1); the same stream with 5% duplicates and 5% malformed records is
 * counted exactly and every malformed record is in the DLQ with its reason (3).
 */
class IngestIntegrationTest extends dev.reranker.testing.BrokerTest {

  /** 10,000 events round-robin over 100 users, known items, increasing timestamps. */
  static List<Interaction> events(String prefix, int count, int users, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    long t = System.currentTimeMillis() - 86_400_000L;
    List<Interaction> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      t += 1 + r.nextInt(1000);
      out.add(new Interaction(prefix + (i % users), "i" + r.nextInt(TestModels.ITEMS), t,
          EventType.VIEW, prefix + "-ev-" + i));
    }
    return out;
  }

  static Map<String, List<Interaction>> byUser(List<Interaction> events) {
    Map<String, List<Interaction>> out = new LinkedHashMap<>();
    for (Interaction e : events) {
      out.computeIfAbsent(e.userId(), u -> new ArrayList<>()).add(e);
    }
    return out;
  }

  @Test
  void tenThousandEventsForHundredUsersEndInExactStates() {
    ConfigurableApplicationContext app = harness.start("exact", "exact");
    List<Interaction> events = events("u", 10_000, 100, 1);
    harness.produce("exact", events);
    await().atMost(Duration.ofSeconds(120)).until(() ->
        EngineHarness.metrics(app).appliedCount() == 10_000);
    Map<String, List<Interaction>> expected = byUser(events);
    harness.assertStatesEqualBatchEncoding(app, expected);

    // the softmax arm catches up when read: the encoding of the last W = 200 (here: all 100)
    UserStates states = EngineHarness.states(app);
    var streams = EngineHarness.streams(app);
    HistoryStore history = HistoryStore.readOnly(streams.store(
        org.apache.kafka.streams.StoreQueryParameters.fromNameAndType(Topics.HISTORY_STORE,
            org.apache.kafka.streams.state.QueryableStoreTypes.keyValueStore())));
    UserStates.Session serving = states.session(history, null);
    for (String user : List.of("u0", "u37", "u99")) {
      List<Interaction> mine = expected.get(user);
      CachedState s = serving.current(user, Arm.SOFTMAX);
      float[] batch = TestModels.batchUserVector(harness.softmax, mine.stream()
          .map(Interaction::itemId).toList(), mine.stream().map(Interaction::timestamp).toList());
      assertThat(TestModels.maxDiff(s.state().userVector(), batch)).isLessThan(1e-4);
    }
    // the cache shows each arm's cost: constant-size performer states, KV caches for softmax
    Map<Arm, Long> bytes = states.cache().bytesByArm();
    assertThat(bytes.get(Arm.PERFORMER)).isPositive();
    assertThat(bytes.get(Arm.SOFTMAX)).isPositive();
    harness.stop(app);
  }

  @Test
  void duplicatesApplyOnceAndEveryMalformedRecordIsDeadLettered() {
    ConfigurableApplicationContext app = harness.start("messy", "messy");
    List<Interaction> events = events("m", 10_000, 100, 2);
    SplittableRandom r = new SplittableRandom(3);
    Map<String, Integer> badByKind = new HashMap<>();
    int[] produced = {0};
    harness.produceRaw("messy", p -> {
      for (int i = 0; i < events.size(); i++) {
        Interaction e = events.get(i);
        byte[] json = InteractionJson.toJson(e).getBytes(StandardCharsets.UTF_8);
        p.send(new ProducerRecord<>("messy-interactions", e.userId(), json));
        produced[0]++;
        if (i % 20 == 7) { // 5% producer retries, possibly a little later
          p.send(new ProducerRecord<>("messy-interactions", e.userId(), json));
          produced[0]++;
        }
        if (i % 20 == 13) { // 5% malformed, of every kind
          String kind = List.of("garbage", "missing-field", "bad-type", "future", "wrong-key",
              "empty", "bad-timestamp").get(r.nextInt(7));
          badByKind.merge(kind, 1, Integer::sum);
          String user = e.userId();
          byte[] value = switch (kind) {
            case "garbage" -> new byte[] {(byte) 0xff, 0x00, 0x7b};
            case "missing-field" -> ("{\"eventId\":\"b" + i + "\",\"userId\":\"" + user
                + "\",\"timestamp\":1,\"eventType\":\"view\"}").getBytes(StandardCharsets.UTF_8);
            case "bad-type" -> ("{\"eventId\":\"b" + i + "\",\"userId\":\"" + user
                + "\",\"itemId\":\"i1\",\"timestamp\":1,\"eventType\":\"hover\"}")
                .getBytes(StandardCharsets.UTF_8);
            case "future" -> InteractionJson.toJson(new Interaction(user, "i1",
                System.currentTimeMillis() + 86_400_000L, EventType.VIEW, "b" + i))
                .getBytes(StandardCharsets.UTF_8);
            case "empty" -> new byte[0];
            case "bad-timestamp" -> ("{\"eventId\":\"b" + i + "\",\"userId\":\"" + user
                + "\",\"itemId\":\"i1\",\"timestamp\":\"yesterday\",\"eventType\":\"view\"}")
                .getBytes(StandardCharsets.UTF_8);
            default -> json; // wrong-key: a valid event under another user's key
          };
          String key = kind.equals("wrong-key") ? "nobody" : user;
          p.send(new ProducerRecord<>("messy-interactions", key, value));
          produced[0]++;
        }
      }
    });
    IngestMetrics metrics = EngineHarness.metrics(app);
    await().atMost(Duration.ofSeconds(120)).until(() -> metrics.appliedCount()
        + metrics.duplicateCount() + metrics.rejectedCount() == produced[0]);
    assertThat(metrics.appliedCount()).isEqualTo(10_000);
    assertThat(metrics.duplicateCount()).isEqualTo(500);
    assertThat(metrics.rejectedCount()).isEqualTo(500);
    assertThat(metrics.appliedCount() + metrics.duplicateCount() + metrics.rejectedCount())
        .isEqualTo(produced[0]);

    List<ConsumerRecord<String, byte[]>> dead = readAll("messy-dlq", 500);
    assertThat(dead).hasSize(500);
    Map<String, Integer> codes = new HashMap<>();
    for (ConsumerRecord<String, byte[]> d : dead) {
      assertThat(d.headers().lastHeader(DeadLetterHeaders.REASON_HEADER)).isNotNull();
      codes.merge(new String(d.headers().lastHeader(DeadLetterHeaders.REASON_CODE_HEADER).value(),
          StandardCharsets.UTF_8), 1, Integer::sum);
    }
    assertThat(codes.getOrDefault("key_mismatch", 0)).isEqualTo(badByKind.getOrDefault(
        "wrong-key", 0));
    assertThat(codes.getOrDefault("future_timestamp", 0)).isEqualTo(badByKind.getOrDefault(
        "future", 0));
    assertThat(codes.getOrDefault("empty", 0)).isEqualTo(badByKind.getOrDefault("empty", 0));
    assertThat(codes.getOrDefault("unknown_event_type", 0)).isEqualTo(badByKind.getOrDefault(
        "bad-type", 0));
    harness.assertStatesEqualBatchEncoding(app, byUser(events));
    harness.stop(app);
  }

  static List<ConsumerRecord<String, byte[]>> readAll(String topic, int expected) {
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, harness.broker.bootstrapServers(),
        ConsumerConfig.GROUP_ID_CONFIG, "reader-" + topic,
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
        new StringDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(topic));
      long deadline = System.currentTimeMillis() + 60_000;
      while (out.size() < expected && System.currentTimeMillis() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(out::add);
      }
      // and nothing more arrives
      consumer.poll(Duration.ofSeconds(1)).forEach(out::add);
    }
    return out;
  }
}
