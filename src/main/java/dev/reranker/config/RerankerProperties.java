package dev.reranker.config;

import dev.reranker.model.Arm;
import java.time.Duration;
import java.util.Set;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The engine's settings ({@code reranker.*} in {@code config/application.yml}, or environment
 * variables such as {@code RERANKER_STATE_CACHE_MAX_BYTES}).
 */
@ConfigurationProperties("reranker")
public record RerankerProperties(@DefaultValue Models models, @DefaultValue Ingest ingest,
    @DefaultValue State state, @DefaultValue Kafka kafka) {

  /**
   * Model artifacts per arm: a directory, or {@code classpath:models/...} for a bundled one.
   * An arm left empty is not served.
   */
  public record Models(@DefaultValue("classpath:models/demo-performer") String performer,
      @DefaultValue("classpath:models/demo-softmax") String softmax) {}

  /**
   * @param topic the interactions topic
   * @param dlqTopic the dead-letter topic
   * @param partitions partitions of both when the engine creates them
   * @param historyLimit events kept per user
   * @param futureTolerance how far ahead of the clock a timestamp may be
   * @param maxRecordBytes larger records are dead-lettered
   * @param dedupRetention how long event ids are remembered (event time)
   * @param microBatchEvents fold pending users after this many events …
   * @param flushInterval … or this often
   * @param eagerArms arms folded as events arrive; others catch up when read
   */
  public record Ingest(@DefaultValue("interactions") String topic,
      @DefaultValue("interactions.dlq") String dlqTopic, @DefaultValue("4") int partitions,
      @DefaultValue("10000") int historyLimit, @DefaultValue("5m") Duration futureTolerance,
      @DefaultValue("16384") int maxRecordBytes, @DefaultValue("24h") Duration dedupRetention,
      @DefaultValue("2048") int microBatchEvents, @DefaultValue("50ms") Duration flushInterval,
      @DefaultValue("performer") Set<Arm> eagerArms) {}

  /**
   * @param cacheMaxBytes the state cache's byte budget (Caffeine maximumWeight)
   * @param expireAfterAccess drop states idle this long (empty: never)
   * @param snapshotEveryEvents snapshot a performer state after this many events …
   * @param snapshotInterval … or this long after its last snapshot, if it changed
   * @param softmaxWindow W, the softmax baseline's window of most recent events
   * @param batchThreshold catch-ups with more events than this run as one batched ND4J pass
   */
  public record State(@DefaultValue("268435456") long cacheMaxBytes, Duration expireAfterAccess,
      @DefaultValue("1000") long snapshotEveryEvents, @DefaultValue("60s") Duration snapshotInterval,
      @DefaultValue("200") int softmaxWindow, @DefaultValue("64") int batchThreshold) {}

  /**
   * @param embeddedDataDir where the in-process broker keeps its data (used only when no
   *     {@code spring.kafka.bootstrap-servers} is configured)
   * @param embeddedPort its client port (0: any free port)
   * @param replicationFactor of the topics the engine creates
   */
  public record Kafka(@DefaultValue("data/kafka") String embeddedDataDir,
      @DefaultValue("0") int embeddedPort, @DefaultValue("1") short replicationFactor) {}
}
