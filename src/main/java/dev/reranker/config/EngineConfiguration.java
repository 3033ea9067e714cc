package dev.reranker.config;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.reranker.attention.Nd4jThreads;
import dev.reranker.experiment.OutcomeJoin;
import dev.reranker.ingest.IngestMetrics;
import dev.reranker.ingest.IngestSettings;
import dev.reranker.ingest.IngestTopology;
import dev.reranker.ingest.RestorationTracker;
import dev.reranker.serving.ModelAdminController;
import dev.reranker.model.EncoderBackends;
import dev.reranker.state.ModelRegistry;
import dev.reranker.state.StateCache;
import dev.reranker.state.UserStates;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import org.apache.kafka.streams.StreamsBuilder;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.kafka.annotation.EnableKafkaStreams;
import org.springframework.kafka.config.StreamsBuilderFactoryBeanConfigurer;

/**
 * Wires the engine: the models of both arms, the byte-bounded state cache, the state service, and
 * the ingestion topology on Spring Kafka's {@code StreamsBuilderFactoryBean} (Kafka Streams
 * settings come from {@code spring.kafka.streams.*}: exactly_once_v2, standby replicas, state
 * directory).
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(RerankerProperties.class)
@EnableKafkaStreams
@Import(EmbeddedKafkaConfiguration.class)
class EngineConfiguration {

  @Bean
  Clock clock() {
    return Clock.systemUTC();
  }

  @Bean
  ModelRegistry modelRegistry(RerankerProperties properties) {
    Nd4jThreads.applyConfigured();
    EncoderBackends.Settings compute = properties.computeSettings();
    return new ModelRegistry(EngineModels.load(properties.models(), compute), compute);
  }

  @Bean
  ModelAdminController.Library modelLibrary(RerankerProperties properties) {
    String dir = properties.models().library();
    return new ModelAdminController.Library(dir == null || dir.isBlank() ? null : Path.of(dir));
  }

  @Bean
  UserStates userStates(ModelRegistry models, RerankerProperties properties, Clock clock,
      MeterRegistry registry) {
    RerankerProperties.State s = properties.state();
    StateCache cache = new StateCache(s.cacheMaxBytes(), s.expireAfterAccess(),
        Ticker.systemTicker());
    cache.bindTo(registry);
    return new UserStates(models, cache, clock,
        s.settings(), registry);
  }

  @Bean
  IngestMetrics ingestMetrics(MeterRegistry registry) {
    return new IngestMetrics(registry);
  }

  @Bean
  IngestSettings ingestSettings(RerankerProperties properties) {
    return properties.ingest().settings();
  }

  /** The topology, added to the builder Spring Kafka manages. */
  @Bean
  IngestTopologyMarker ingestTopology(StreamsBuilder builder, IngestSettings settings,
      UserStates states, IngestMetrics metrics, Clock clock,
      java.util.function.Consumer<dev.reranker.data.Interaction> appliedEvents,
      RerankerProperties properties, MeterRegistry registry) {
    IngestTopology.Ingested ingested = IngestTopology.build(builder, settings, states, metrics,
        clock, appliedEvents);
    io.micrometer.core.instrument.Counter dropped = io.micrometer.core.instrument.Counter
        .builder("reranker.experiments.exposures.dropped")
        .description("exposure records the outcome join could not use").register(registry);
    org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(OutcomeJoin.class);
    OutcomeJoin.addTo(builder, ingested.accepted(), ingested.ignored(),
        properties.experiments().joinSettings(), clock,
        reason -> {
          dropped.increment();
          log.warn("exposure dropped: {}", reason);
        });
    return new IngestTopologyMarker();
  }

  @Bean
  RestorationTracker restorationTracker() {
    return new RestorationTracker();
  }

  @Bean
  StreamsStartup streamsStartup(RestorationTracker restoration) {
    return new StreamsStartup(restoration);
  }

  /**
   * What the topology needs from Kafka Streams beyond {@code spring.kafka.streams.*}: the
   * production error handler that keeps a refused dead-letter record from stopping ingestion, and
   * the restore and state listeners readiness waits on.
   */
  @Bean
  StreamsBuilderFactoryBeanConfigurer ingestStreamsConfigurer(IngestSettings settings,
      IngestMetrics metrics, RestorationTracker restoration, StreamsStartup startup) {
    return factory -> {
      java.util.Properties p = factory.getStreamsConfiguration();
      if (p != null) {
        p.putAll(IngestTopology.streamsProperties(settings, metrics));
        staticMembership(p);
        factory.setStreamsConfiguration(p);
      }
      factory.setStateRestoreListener(restoration);
      factory.setStateListener(startup);
      // stop after the web server: on SIGTERM Boot's graceful shutdown (phase DEFAULT − 1024)
      // drains the requests in flight first, then the server stops (DEFAULT − 2048), and only
      // then do the stores close. With the factory's own phase (DEFAULT − 1000) the stores
      // closed first and requests still in flight were answered degraded. At start it runs
      // before the web server, which readiness covers anyway.
      factory.setPhase(org.springframework.context.SmartLifecycle.DEFAULT_PHASE - 4096);
      // leave the consumer group on a clean close (Kafka Streams does so for static members,
      // see staticMembership): the group rebalances at once, standbys take the partitions
      factory.setLeaveGroupOnClose(true);
    };
  }

  /**
   * Makes the instance a static member of the consumer group ({@code group.instance.id} derived
   * from its {@code application.server}, unique by construction) unless one is configured. A
   * dynamic member that stops does not leave the group (Kafka Streams never sends the leave for
   * one), so its successor's join waited for the coordinator to evict it after the session
   * timeout: measured by {@code bench restore}, start → ready took 38 s with nothing to restore
   * (Kafka's 45 s less the time the instance was down), and ≈ 55 s in the rolling-restart fault
   * test. As a static member, a clean close removes it at once (leave-group-on-close) and a
   * restarted instance rejoins under the same id: 1.5 s. Without {@code application.server}
   * (a single instance) nothing is set.
   */
  static void staticMembership(java.util.Properties p) {
    String server = p.getProperty("application.server");
    if (server == null || server.isBlank() || p.containsKey("group.instance.id")
        || p.containsKey("main.consumer.group.instance.id")
        || p.containsKey("consumer.group.instance.id")) {
      return;
    }
    String id = (p.getProperty("application.id", "reranker") + "-" + server.trim())
        .replaceAll("[^a-zA-Z0-9._-]", "-");
    p.setProperty("main.consumer.group.instance.id", id);
  }

  /** A bean that stands for "the topology has been built". */
  static final class IngestTopologyMarker {}
}
