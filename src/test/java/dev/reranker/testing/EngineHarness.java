package dev.reranker.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.reranker.config.RerankerApplication;
import dev.reranker.data.Interaction;
import dev.reranker.data.InteractionJson;
import dev.reranker.model.Arm;
import dev.reranker.ingest.InProcessKafkaBroker;
import dev.reranker.ingest.IngestMetrics;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.state.CachedState;
import dev.reranker.state.StateKey;
import dev.reranker.state.UserStates;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.kafka.config.StreamsBuilderFactoryBean;

/**
 * Runs the real service (Spring Boot, Kafka Streams, RocksDB) against a real in-process broker:
 * small test models of both arms, a fresh topic and application id per test, a state directory per
 * instance.
 */
public final class EngineHarness implements AutoCloseable {

  public final InProcessKafkaBroker broker;
  public final Path root;
  public final ModelArtifacts.TrainedModel performer = TestModels.model(Arm.PERFORMER, 21);
  public final ModelArtifacts.TrainedModel softmax = TestModels.model(Arm.SOFTMAX, 22);
  /** A second performer model in the library (for activation tests). */
  public final ModelArtifacts.TrainedModel performer2 = TestModels.model(Arm.PERFORMER, 23);
  private final Path performerDir;
  private final Path softmaxDir;
  private final List<ConfigurableApplicationContext> contexts = new ArrayList<>();

  public EngineHarness(Path root) throws IOException {
    this.root = root;
    this.broker = InProcessKafkaBroker.start(root.resolve("kafka"), 0);
    this.performerDir = root.resolve("models/performer");
    this.softmaxDir = root.resolve("models/softmax");
    ModelArtifacts.save(performer, performerDir);
    ModelArtifacts.save(softmax, softmaxDir);
    ModelArtifacts.save(performer2, root.resolve("models/performer2"));
  }

  /** The key the harness's instances present to each other. */
  public static final String CLUSTER_KEY = "test-cluster-key";

  /** The admin API key the harness's instances use. */
  public static final String ADMIN_KEY = "test-admin-key";

  /** Starts an instance with its REST API on a free port. */
  public ConfigurableApplicationContext startWeb(String app, String name, String... extra) {
    List<String> props = new ArrayList<>(List.of("server.port=0",
        "reranker.security.admin-api-key=" + ADMIN_KEY,
        "reranker.security.cluster-key=" + CLUSTER_KEY,
        "reranker.models.library=" + root.resolve("models")));
    props.addAll(List.of(extra));
    return start(app, name, true, props.toArray(String[]::new));
  }

  /** {@link #startWeb} without waiting for Kafka Streams to reach RUNNING. */
  public ConfigurableApplicationContext startWebNoWait(String app, String name, String... extra) {
    List<String> props = new ArrayList<>(List.of("server.port=0",
        "reranker.security.admin-api-key=" + ADMIN_KEY,
        "reranker.security.cluster-key=" + CLUSTER_KEY,
        "reranker.models.library=" + root.resolve("models")));
    props.addAll(List.of(extra));
    return start(app, name, true, false, props.toArray(String[]::new));
  }

  /** The port an instance's REST API listens on. */
  public static int port(ConfigurableApplicationContext context) {
    return Integer.parseInt(context.getEnvironment().getProperty("local.server.port"));
  }

  /** Starts an instance; {@code name} picks its state directory, {@code app} the topic and id. */
  public ConfigurableApplicationContext start(String app, String name, String... extra) {
    return start(app, name, false, extra);
  }

  private ConfigurableApplicationContext start(String app, String name, boolean web,
      String... extra) {
    return start(app, name, web, true, extra);
  }

  private ConfigurableApplicationContext start(String app, String name, boolean web,
      boolean awaitRunning, String... extra) {
    List<String> props = new ArrayList<>(List.of(
        "spring.kafka.bootstrap-servers=" + broker.bootstrapServers(),
        "spring.kafka.streams.application-id=" + app,
        "spring.kafka.streams.state-dir=" + root.resolve("streams-" + name),
        "spring.main.web-application-type=" + (web ? "servlet" : "none"),
        "reranker.models.performer=" + performerDir,
        "reranker.models.softmax=" + softmaxDir,
        "reranker.ingest.topic=" + app + "-interactions",
        "reranker.ingest.dlq-topic=" + app + "-dlq",
        "reranker.experiments.topic=" + app + "-experiments",
        "reranker.experiments.exposures-topic=" + app + "-exposures",
        "reranker.experiments.outcomes-topic=" + app + "-outcomes",
        "reranker.experiments.sweep-interval=1s",
        "reranker.ingest.partitions=4",
        "reranker.ingest.flush-interval=50ms",
        "spring.kafka.streams.properties.commit.interval.ms=100",
        "spring.kafka.streams.properties.num.standby.replicas=0"));
    // later settings replace earlier ones with the same name
    java.util.Map<String, String> byName = new java.util.LinkedHashMap<>();
    for (String p : props) {
      byName.put(p.substring(0, p.indexOf('=')), p);
    }
    for (String p : extra) {
      byName.put(p.substring(0, p.indexOf('=')), p);
    }
    props = new ArrayList<>(byName.values());
    // as command-line arguments: they take precedence over application.yml
    ConfigurableApplicationContext context = new SpringApplicationBuilder(RerankerApplication.class)
        .run(props.stream().map(p -> "--" + p).toArray(String[]::new));
    contexts.add(context);
    if (awaitRunning) {
      await().atMost(Duration.ofSeconds(90)).until(() -> streams(context).state()
          == KafkaStreams.State.RUNNING);
    }
    return context;
  }

  public static KafkaStreams streams(ConfigurableApplicationContext context) {
    return context.getBean(StreamsBuilderFactoryBean.class).getKafkaStreams();
  }

  public static UserStates states(ConfigurableApplicationContext context) {
    return context.getBean(UserStates.class);
  }

  public static IngestMetrics metrics(ConfigurableApplicationContext context) {
    return context.getBean(IngestMetrics.class);
  }

  /** Produces events (key = userId, JSON value) and waits for the acknowledgements. */
  public void produce(String app, List<Interaction> events) {
    produceRaw(app, p -> {
      for (Interaction e : events) {
        p.send(new ProducerRecord<>(app + "-interactions", e.userId(),
            InteractionJson.toJson(e).getBytes(StandardCharsets.UTF_8)));
      }
    });
  }

  public void produceRaw(String app, Consumer<KafkaProducer<String, byte[]>> sends) {
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
        ProducerConfig.LINGER_MS_CONFIG, 5, ProducerConfig.ACKS_CONFIG, "all"),
        new StringSerializer(), new ByteArraySerializer())) {
      sends.accept(producer);
      producer.flush();
    }
  }

  public void stop(ConfigurableApplicationContext context) {
    context.close();
    contexts.remove(context);
  }

  /** Deletes an instance's local state (RocksDB stores, checkpoints): a lost disk. */
  public void wipeState(String name) throws IOException {
    Path dir = root.resolve("streams-" + name);
    if (Files.exists(dir)) {
      try (var paths = Files.walk(dir)) {
        paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /** Waits until every user's cached performer state has read its whole history, then compares. */
  public void assertStatesEqualBatchEncoding(ConfigurableApplicationContext context,
      Map<String, List<Interaction>> expected) {
    UserStates states = EngineHarness.states(context);
    await().atMost(Duration.ofSeconds(120)).until(() -> expected.entrySet().stream().allMatch(
        u -> {
          CachedState c = states.cache().getIfPresent(new StateKey(u.getKey(), Arm.PERFORMER));
          return c != null && c.historyPosition() == u.getValue().size();
        }));
    for (Map.Entry<String, List<Interaction>> u : expected.entrySet()) {
      CachedState c = states.cache().getIfPresent(new StateKey(u.getKey(), Arm.PERFORMER));
      float[] batch = TestModels.batchUserVector(performer, u.getValue().stream()
          .map(Interaction::itemId).toList(), u.getValue().stream().map(Interaction::timestamp)
          .toList());
      assertThat(TestModels.maxDiff(c.state().userVector(), batch)).as(u.getKey())
          .isLessThan(1e-4);
      assertThat(c.state().position()).isEqualTo(u.getValue().size());
    }
  }

  @Override
  public void close() {
    for (ConfigurableApplicationContext c : new ArrayList<>(contexts)) {
      c.close();
    }
    broker.close();
  }
}
