package dev.reranker.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.reranker.data.EventType;
import dev.reranker.data.Interaction;
import dev.reranker.data.InteractionJson;
import dev.reranker.model.Arm;
import dev.reranker.state.CachedState;
import dev.reranker.state.StateKey;
import dev.reranker.testing.EngineHarness;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Records up to the broker's maximum never stop ingestion (issue 9, finding 2), through a real
 * broker and the real service: each oversized record is dead-lettered in a bounded copy, the valid
 * event after it is applied, Kafka Streams stays RUNNING. And when the producer refuses a
 * dead-letter record anyway (here: a Streams producer limit below the dead-letter bound), the
 * record is counted with its reason and ingestion goes on.
 */
class PoisonPillIntegrationTest extends dev.reranker.testing.BrokerTest {

  static final String USER = "pill-user";

  KafkaProducer<String, byte[]> bigProducer() {
    return new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, harness.broker.bootstrapServers(),
        ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 4 << 20, ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.RETRIES_CONFIG, 0, ProducerConfig.LINGER_MS_CONFIG, 0),
        new StringSerializer(), new ByteArraySerializer());
  }

  /** The largest value (key {@value #USER}, no headers) the broker accepts: asked, not assumed. */
  int brokerMaximumValue() throws Exception {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
        harness.broker.bootstrapServers()))) {
      admin.createTopics(List.of(new NewTopic("pill-probe", 1, (short) 1))).all().get();
    }
    try (KafkaProducer<String, byte[]> p = bigProducer()) {
      int accepted = 1_000_000;
      int refused = 1_200_000;
      while (refused - accepted > 1) {
        int mid = (accepted + refused) >>> 1;
        try {
          p.send(new ProducerRecord<>("pill-probe", USER, new byte[mid])).get();
          accepted = mid;
        } catch (ExecutionException e) {
          assertThat(e.getCause()).isInstanceOf(RecordTooLargeException.class);
          refused = mid;
        }
      }
      return accepted;
    }
  }

  static byte[] payload(int size) {
    byte[] b = new byte[size];
    byte[] head = ("{\"eventId\":\"big\",\"userId\":\"" + USER + "\",\"pad\":\"")
        .getBytes(StandardCharsets.UTF_8);
    java.util.Arrays.fill(b, (byte) 'x');
    System.arraycopy(head, 0, b, 0, head.length);
    return b;
  }

  static byte[] valid(int i) {
    return InteractionJson.toJson(new Interaction(USER, "i" + i, System.currentTimeMillis() - 1000
        + i, EventType.VIEW, "valid-" + i)).getBytes(StandardCharsets.UTF_8);
  }

  /** Sends each oversized value followed by a valid event; returns the sizes sent. */
  List<Integer> sendPills(String app, List<Integer> sizes) throws Exception {
    try (KafkaProducer<String, byte[]> p = bigProducer()) {
      for (int i = 0; i < sizes.size(); i++) {
        p.send(new ProducerRecord<>(app + "-interactions", USER, payload(sizes.get(i)))).get();
        p.send(new ProducerRecord<>(app + "-interactions", USER, valid(i))).get();
      }
    }
    return sizes;
  }

  /** Watches the Streams client's state: anything but RUNNING after start is recorded. */
  static AtomicReference<KafkaStreams.State> watchState(ConfigurableApplicationContext app) {
    AtomicReference<KafkaStreams.State> worst = new AtomicReference<>(KafkaStreams.State.RUNNING);
    Thread t = new Thread(() -> {
      while (!Thread.currentThread().isInterrupted() && app.isActive()) {
        KafkaStreams ks = EngineHarness.streams(app);
        if (ks == null) {
          return; // stopped
        }
        KafkaStreams.State s = ks.state();
        if (s == KafkaStreams.State.ERROR || s == KafkaStreams.State.PENDING_ERROR
            || s == KafkaStreams.State.NOT_RUNNING || s == KafkaStreams.State.PENDING_SHUTDOWN) {
          worst.set(s);
        }
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "state-watch");
    t.setDaemon(true);
    t.start();
    return worst;
  }

  List<ConsumerRecord<String, byte[]>> deadLetters(String app, int expected) {
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, harness.broker.bootstrapServers(),
        ConsumerConfig.GROUP_ID_CONFIG, app + "-dlq-reader",
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
        ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 4 << 20),
        new StringDeserializer(), new ByteArrayDeserializer())) {
      c.subscribe(List.of(app + "-dlq"));
      long deadline = System.currentTimeMillis() + 60_000;
      while (out.size() < expected && System.currentTimeMillis() < deadline) {
        c.poll(Duration.ofMillis(200)).forEach(out::add);
      }
    }
    return out;
  }

  @Test
  void recordsUpToTheBrokersMaximumAreDeadLetteredBoundedAndIngestionGoesOn() throws Exception {
    int max = brokerMaximumValue();
    System.out.println("PoisonPillIntegrationTest: the broker accepts values up to " + max
        + " bytes (key '" + USER + "')");
    ConfigurableApplicationContext app = harness.start("pills", "pills");
    AtomicReference<KafkaStreams.State> worst = watchState(app);
    List<Integer> sizes = sendPills("pills", List.of(500_000, 1_048_400, 1_048_450, max));
    IngestMetrics metrics = EngineHarness.metrics(app);
    await().atMost(Duration.ofSeconds(60)).until(() -> metrics.appliedCount() == sizes.size());
    List<ConsumerRecord<String, byte[]>> dead = deadLetters("pills", sizes.size());
    assertThat(dead).hasSize(sizes.size());
    for (int i = 0; i < sizes.size(); i++) {
      ConsumerRecord<String, byte[]> d = dead.get(i);
      assertThat(header(d, DeadLetterHeaders.REASON_CODE_HEADER)).isEqualTo("oversized");
      assertThat(header(d, DeadLetterHeaders.TRUNCATED_HEADER)).isEqualTo(sizes.get(i).toString());
      assertThat(d.value().length).isEqualTo(IngestSettings.defaults().dlqMaxValueBytes());
      assertThat(header(d, DeadLetterHeaders.SOURCE_OFFSET_HEADER)).isNotNull();
    }
    assertThat(metrics.rejectedCount(Rejection.Code.OVERSIZED)).isEqualTo(sizes.size());
    assertThat(metrics.appliedCount() + metrics.duplicateCount() + metrics.rejectedCount())
        .isEqualTo(2L * sizes.size());
    CachedState state = EngineHarness.states(app).cache().getIfPresent(
        new StateKey(USER, Arm.PERFORMER));
    await().atMost(Duration.ofSeconds(10)).until(() -> EngineHarness.states(app).cache()
        .getIfPresent(new StateKey(USER, Arm.PERFORMER)) != null && EngineHarness.states(app)
        .cache().getIfPresent(new StateKey(USER, Arm.PERFORMER)).historyPosition() == 4);
    assertThat(EngineHarness.streams(app).state()).isEqualTo(KafkaStreams.State.RUNNING);
    assertThat(worst.get()).as("Streams left RUNNING at some point").isEqualTo(
        KafkaStreams.State.RUNNING);
    harness.stop(app);
  }

  @Test
  void theDeadLetterBoundFollowsTheStreamsProducersRequestLimit() throws Exception {
    // a dead-letter bound (512 KiB) above what this Streams producer may send (100 kB): before, a
    // refused send aborted the exactly-once transaction and the record was reprocessed forever
    ConfigurableApplicationContext app = harness.start("refused", "refused",
        "reranker.ingest.dlq-max-value-bytes=524288",
        "spring.kafka.streams.properties.producer.max.request.size=100000");
    AtomicReference<KafkaStreams.State> worst = watchState(app);
    List<Integer> sizes = sendPills("refused", List.of(500_000, 30_000, 99_990));
    IngestMetrics metrics = EngineHarness.metrics(app);
    await().atMost(Duration.ofSeconds(60)).until(() -> metrics.appliedCount() == sizes.size());
    List<ConsumerRecord<String, byte[]>> dead = deadLetters("refused", sizes.size());
    assertThat(dead).hasSize(sizes.size());
    for (int i = 0; i < sizes.size(); i++) {
      ConsumerRecord<String, byte[]> d = dead.get(i);
      assertThat(d.serializedValueSize()).isLessThan(100_000);
      assertThat(d.serializedValueSize()).isLessThanOrEqualTo(sizes.get(i));
      assertThat(header(d, DeadLetterHeaders.REASON_CODE_HEADER)).isEqualTo("oversized");
    }
    // 30 kB fits whole
    assertThat(header(dead.get(1), DeadLetterHeaders.TRUNCATED_HEADER)).isNull();
    assertThat(header(dead.get(0), DeadLetterHeaders.TRUNCATED_HEADER)).isEqualTo("500000");
    assertThat(metrics.deadLetterFailedCount()).isZero();
    assertThat(metrics.appliedCount() + metrics.rejectedCount()).isEqualTo(2L * sizes.size());
    assertThat(EngineHarness.streams(app).state()).isEqualTo(KafkaStreams.State.RUNNING);
    assertThat(worst.get()).isEqualTo(KafkaStreams.State.RUNNING);
    harness.stop(app);
  }

  static String header(ConsumerRecord<String, byte[]> r, String key) {
    var h = r.headers().lastHeader(key);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }
}
