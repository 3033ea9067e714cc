package dev.reranker.config;

import dev.reranker.data.Interaction;
import dev.reranker.data.Topics;
import dev.reranker.experiment.AggregateReport;
import dev.reranker.experiment.ArmChoice;
import dev.reranker.experiment.Experiment;
import dev.reranker.experiment.ExperimentLog;
import dev.reranker.experiment.ExperimentRegistry;
import dev.reranker.experiment.Exposure;
import dev.reranker.experiment.ShadowAgreement;
import dev.reranker.ingest.IngestStores;
import dev.reranker.serving.ClusterKey;
import dev.reranker.serving.ExposurePublisher;
import dev.reranker.serving.ExperimentAggregates;
import dev.reranker.serving.ItemPopularity;
import dev.reranker.serving.OwnerRouter;
import dev.reranker.serving.RequestGuards;
import dev.reranker.serving.RerankService;
import dev.reranker.serving.Reranker;
import dev.reranker.state.StateReader;
import dev.reranker.state.UserStates;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.apache.kafka.streams.state.HostInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.kafka.config.StreamsBuilderFactoryBean;
import org.springframework.kafka.core.ConsumerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/** Wires reranking, experiments and the exposure topic. */
@Configuration(proxyBeanMethods = false)
class ServingConfiguration {

  private static final Logger log = LoggerFactory.getLogger(ServingConfiguration.class);

  /**
   * Request bodies are read strictly: a field given twice is an error (which value would count?),
   * and nothing is coerced — {@code "k": 1.5} or {@code "k": "3"} is not 1 or 3, a number or a
   * boolean is not an id. Each answers 400 naming the field.
   */
  @Bean
  org.springframework.boot.jackson.autoconfigure.JsonMapperBuilderCustomizer strictRequestJson() {
    var fail = tools.jackson.databind.cfg.CoercionAction.Fail;
    return b -> b.enable(tools.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .disable(tools.jackson.databind.DeserializationFeature.ACCEPT_FLOAT_AS_INT)
        .withCoercionConfig(tools.jackson.databind.type.LogicalType.Textual, c -> c
            .setCoercion(tools.jackson.databind.cfg.CoercionInputShape.Integer, fail)
            .setCoercion(tools.jackson.databind.cfg.CoercionInputShape.Float, fail)
            .setCoercion(tools.jackson.databind.cfg.CoercionInputShape.Boolean, fail))
        .withCoercionConfig(tools.jackson.databind.type.LogicalType.Integer, c -> c
            .setCoercion(tools.jackson.databind.cfg.CoercionInputShape.String, fail)
            .setCoercion(tools.jackson.databind.cfg.CoercionInputShape.Float, fail)
            .setCoercion(tools.jackson.databind.cfg.CoercionInputShape.Boolean, fail))
        .withCoercionConfig(tools.jackson.databind.type.LogicalType.Float, c -> c
            .setCoercion(tools.jackson.databind.cfg.CoercionInputShape.String, fail)
            .setCoercion(tools.jackson.databind.cfg.CoercionInputShape.Boolean, fail))
        .withCoercionConfig(tools.jackson.databind.type.LogicalType.Boolean, c -> c
            .setCoercion(tools.jackson.databind.cfg.CoercionInputShape.String, fail)
            .setCoercion(tools.jackson.databind.cfg.CoercionInputShape.Integer, fail));
  }

  @Bean
  ItemPopularity itemPopularity() {
    return new ItemPopularity();
  }

  @Bean
  ShadowAgreement shadowAgreement() {
    return new ShadowAgreement();
  }

  /** What the ingestion tells serving about each applied event. */
  @Bean
  Consumer<Interaction> appliedEvents(ItemPopularity popularity) {
    return e -> popularity.record(e.itemId());
  }

  /**
   * The engine's topics: created when missing, never changed, their partition counts checked
   * before Kafka Streams starts ({@link KafkaTopics}). The user-keyed ones (interactions, dead
   * letters, exposures, outcomes) have {@code reranker.ingest.partitions}; the experiments topic
   * one partition (one order), compacted (the latest per id).
   */
  @Bean
  KafkaTopics kafkaTopics(org.springframework.kafka.core.KafkaAdmin admin, RerankerProperties p,
      Environment env) {
    String applicationId = env.getProperty("spring.kafka.streams.application-id",
        env.getProperty("spring.application.name", "reranker"));
    return new KafkaTopics(new KafkaTopics.Plan(List.of(p.ingest().topic(),
        p.experiments().exposuresTopic(), p.ingest().dlqTopic(), p.experiments().outcomesTopic()),
        p.ingest().partitions(), List.of(p.experiments().topic()),
        java.util.Set.of(p.experiments().topic()), p.kafka().replicationFactor(), applicationId),
        admin.getConfigurationProperties(), p.kafka().topicCheckTimeout());
  }

  @Bean(destroyMethod = "close")
  ExperimentLog experimentLog(ExperimentRegistry registry, ConsumerFactory<?, ?> consumers,
      RerankerProperties p) {
    return new ExperimentLog(registry, p.experiments().topic(),
        consumers.getConfigurationProperties());
  }

  /**
   * Starts reading the experiments topic once the context is refreshed: after the admin client has
   * created the topics (before that the consumer only logs that the topic is unknown).
   */
  @Bean
  SmartLifecycle experimentLogReader(ExperimentLog experimentLog) {
    return new SmartLifecycle() {
      private volatile boolean running;

      @Override
      public void start() {
        experimentLog.start();
        running = true;
      }

      @Override
      public void stop() {
        experimentLog.close();
        running = false;
      }

      @Override
      public boolean isRunning() {
        return running;
      }
    };
  }

  @Bean
  ExperimentRegistry experimentRegistry(RerankerProperties properties,
      KafkaTemplate<String, String> kafka) {
    RerankerProperties.Experiments cfg = properties.experiments();
    List<Experiment> list = new ArrayList<>();
    if (cfg.definitions() != null) {
      for (RerankerProperties.ExperimentSpec spec : cfg.definitions()) {
        list.add(Experiment.create(spec.id(), spec.salt(), weights(spec.weights()), spec.shadow(),
            spec.k()));
      }
    }
    if (list.stream().noneMatch(e -> e.id().equals(cfg.defaultId()))) {
      list.add(Experiment.standard(cfg.defaultId()));
    }
    // an admin change is written to the experiments topic before it applies here, so that it
    // reaches every instance or none
    return new ExperimentRegistry(list, cfg.defaultId(), e -> {
      try {
        return kafka.send(cfg.topic(), e.id(), ExperimentLog.toJson(e)).get(10, TimeUnit.SECONDS)
            .getRecordMetadata().offset();
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while sharing experiment " + e.id(), ex);
      } catch (ExecutionException | TimeoutException ex) {
        throw new IllegalStateException("experiment " + e.id() + " could not be written to "
            + cfg.topic() + ": " + ex.getMessage(), ex);
      }
    });
  }

  static Map<ArmChoice, Double> weights(Map<String, Double> raw) {
    Map<ArmChoice, Double> out = new EnumMap<>(ArmChoice.class);
    if (raw != null) {
      raw.forEach((k, v) -> out.put(ArmChoice.parse(k), v));
    }
    return out;
  }

  @Bean(destroyMethod = "shutdownNow")
  ExecutorService rerankWorkers(RerankerProperties properties) {
    AtomicInteger n = new AtomicInteger();
    return Executors.newFixedThreadPool(properties.serving().workerThreads(), r -> {
      Thread t = new Thread(r, "rerank-worker-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  @Bean
  StateReader stateReader(StreamsBuilderFactoryBean streams, UserStates states) {
    return IngestStores.stateReader(streams::getKafkaStreams, states);
  }

  @Bean
  Reranker reranker(StateReader states, ItemPopularity popularity,
      ExecutorService rerankWorkers) {
    return new Reranker(states, popularity, rerankWorkers);
  }

  /** Readiness and the broker gauges: is the Kafka cluster reachable from here. */
  @Bean
  BrokerReachability brokerReachability(org.springframework.kafka.core.KafkaAdmin admin,
      RerankerProperties p, MeterRegistry registry) {
    BrokerReachability b = BrokerReachability.overAdmin(admin.getConfigurationProperties(),
        p.kafka().brokerCheckInterval(), p.kafka().brokerUnreachableAfter());
    b.bindTo(registry);
    return b;
  }

  @Bean(destroyMethod = "close")
  dev.reranker.serving.ExperimentMetrics experimentMetrics(ExperimentRegistry experiments,
      ExperimentAggregates aggregates, MeterRegistry registry) {
    return new dev.reranker.serving.ExperimentMetrics(experiments, aggregates, registry,
        java.time.Duration.ofSeconds(15));
  }

  @Bean
  ExperimentAggregates experimentAggregates(StreamsBuilderFactoryBean streams, Environment env,
      RerankerProperties p, UserStates states, ClusterKey clusterKey,
      ExposurePublisher exposures) {
    return new ExperimentAggregates(streams::getKafkaStreams,
        p.experiments().joinSettings().exposuresTopic(), self(env),
        p.experiments().reportTimeout(), () -> {
          Map<ArmChoice, long[]> out = new EnumMap<>(ArmChoice.class);
          for (dev.reranker.model.Arm arm : dev.reranker.model.Arm.values()) {
            UserStates.FoldCost c = states.foldCost(arm);
            out.put(ArmChoice.of(arm), new long[] {c.events(), c.nanos()});
          }
          return out;
        }, clusterKey, exposures::unpublished);
  }

  /**
   * The key instances present to each other ({@link ClusterKey}): {@code
   * reranker.security.cluster-key}. Required in the {@code prod} profile; elsewhere (the demo, one
   * instance) a random one is generated when it is not set, which instances of one deployment then
   * do not share: their reports miss each other's partitions until it is set.
   */
  @Bean
  ClusterKey clusterKey(RerankerProperties p, Environment env) {
    String key = p.security().clusterKey();
    if (key == null || key.isBlank()) {
      if (env.matchesProfiles("prod")) {
        throw new IllegalStateException("reranker.security.cluster-key (RERANKER_SECURITY_"
            + "CLUSTER_KEY) is required in the prod profile: the instances of a deployment "
            + "present it to each other on /internal/** and forwarded requests; use the same "
            + "secret on every instance, not the admin key");
      }
      key = java.util.UUID.randomUUID().toString();
      if (self(env) != null) {
        log.warn("no reranker.security.cluster-key configured; generated one for this instance: "
            + "other instances cannot read its aggregates or forward to it. Set the same key on "
            + "every instance");
      }
    }
    return new ClusterKey(key);
  }

  @Bean
  AggregateReport.Settings reportSettings(RerankerProperties p) {
    return p.experiments().reportSettings();
  }

  /**
   * Exposures leave the request threads through a bounded queue (see {@link ExposurePublisher}):
   * a request never waits on Kafka. Closed after the web server has drained its requests.
   */
  @Bean(destroyMethod = "close")
  ExposurePublisher exposurePublisher(KafkaTemplate<String, String> kafka, MeterRegistry registry,
      RerankerProperties properties) {
    ObjectMapper json = JsonMapper.builder().build();
    String topic = properties.experiments().exposuresTopic();
    return new ExposurePublisher(e -> kafka.send(topic, e.userId(), json.writeValueAsString(e)),
        properties.serving().exposureQueueCapacity(), registry);
  }

  @Bean
  RerankService rerankService(Reranker reranker, ExperimentRegistry experiments,
      ShadowAgreement shadowAgreement, ExposurePublisher publisher, MeterRegistry registry,
      RerankerProperties properties, Clock clock) {
    return new RerankService(reranker, experiments, shadowAgreement, publisher, registry,
        properties.serving().deadline(), clock);
  }

  @Bean
  OwnerRouter ownerRouter(StreamsBuilderFactoryBean streams, Environment env,
      ClusterKey clusterKey) {
    return OwnerRouter.over(streams::getKafkaStreams, self(env), clusterKey);
  }

  /** This instance's {@code application.server}, or null when it has none. */
  private static HostInfo self(Environment env) {
    String server = env.getProperty("spring.kafka.streams.properties.application.server");
    return server == null || server.isBlank() ? null : HostInfo.buildFromEndpoint(server);
  }

  @Bean
  FilterRegistrationBean<RequestGuards> requestGuards(RerankerProperties properties) {
    FilterRegistrationBean<RequestGuards> bean = new FilterRegistrationBean<>(new RequestGuards(
        properties.serving().maxBodyBytes(), properties.serving().maxConcurrentRequests(),
        properties.serving().bodyReadTimeout()));
    bean.addUrlPatterns("/*");
    bean.setOrder(-200); // before Spring Security's filter chain
    return bean;
  }
}
