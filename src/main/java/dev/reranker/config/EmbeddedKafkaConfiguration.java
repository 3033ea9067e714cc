package dev.reranker.config;

import dev.reranker.ingest.InProcessKafkaBroker;
import java.nio.file.Path;
import java.util.List;
import org.springframework.boot.kafka.autoconfigure.KafkaConnectionDetails;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Condition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * With no {@code spring.kafka.bootstrap-servers} configured, the engine runs its own single-node
 * Kafka (KRaft) in-process and points every Kafka client at it through Boot's
 * {@link KafkaConnectionDetails}. With bootstrap servers set, this configuration stays off and the
 * configured cluster is used.
 */
@Configuration(proxyBeanMethods = false)
@Conditional(EmbeddedKafkaConfiguration.NoBootstrapServers.class)
class EmbeddedKafkaConfiguration {

  @Bean(destroyMethod = "close")
  InProcessKafkaBroker inProcessKafkaBroker(RerankerProperties properties) {
    return InProcessKafkaBroker.start(Path.of(properties.kafka().embeddedDataDir()),
        properties.kafka().embeddedPort());
  }

  @Bean
  KafkaConnectionDetails inProcessKafkaConnectionDetails(InProcessKafkaBroker broker) {
    return () -> List.of(broker.bootstrapServers());
  }

  /** True when no cluster is configured. */
  static final class NoBootstrapServers implements Condition {
    @Override
    public boolean matches(ConditionContext context, AnnotatedTypeMetadata metadata) {
      String servers = context.getEnvironment().getProperty("spring.kafka.bootstrap-servers");
      return servers == null || servers.isBlank();
    }
  }
}
