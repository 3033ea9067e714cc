package dev.reranker.config;

import dev.reranker.experiment.AggregateReport;
import dev.reranker.experiment.OutcomeJoin;

import dev.reranker.data.Topics;
import dev.reranker.experiment.Experiment;
import dev.reranker.ingest.IngestSettings;
import dev.reranker.model.Arm;
import dev.reranker.state.UserStates;
import dev.reranker.gpu.Cublas;
import dev.reranker.gpu.GpuSettings;
import dev.reranker.model.EncoderBackends;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The engine's settings ({@code reranker.*} in {@code config/application.yml}, or environment
 * variables such as {@code RERANKER_STATE_CACHE_MAX_BYTES}).
 *
 * <p>Where a setting's default lives: a setting the engine's own types take has its default there,
 * once ({@link IngestSettings#defaults()}, {@link UserStates.Settings#defaults()}, {@link
 * Experiment#DEFAULT_ID}, {@link Topics}); the records here leave it unset and fill it in from
 * those. Settings only the service has (ports, thread counts, the cache budget) have theirs here.
 */
@ConfigurationProperties("reranker")
public record RerankerProperties(@DefaultValue Models models, @DefaultValue Ingest ingest,
    @DefaultValue State state, @DefaultValue Kafka kafka, @DefaultValue Serving serving,
    @DefaultValue Experiments experiments, @DefaultValue Security security,
    @DefaultValue Demo demo, @DefaultValue("cpu") String compute, @DefaultValue Gpu gpu) {

  /**
   * The GPU backend's settings ({@code reranker.compute=gpu|auto}; docs/gpu.md).
   *
   * @param cudaLibrary the CUDA driver library (path or loader name); empty: libcuda.so.1 on the
   *     loader's path, then the usual directories
   * @param cublasLibrary cuBLAS; empty: $CUDA_HOME's, the loader's, /usr/local/cuda's (13, then 12)
   * @param maxRows event rows per GPU pass (≈ 4 KB of device memory each for the default model)
   * @param maxUsers users per GPU pass: their states are staged on the device and in page-locked
   *     host memory (33.8 KB each for the default model)
   * @param math {@code fp32} (the default) or {@code tf32} GEMMs
   * @param device the CUDA device ordinal
   */
  public record Gpu(String cudaLibrary, String cublasLibrary,
      @DefaultValue("262144") int maxRows, @DefaultValue("16384") int maxUsers,
      @DefaultValue("fp32") String math, @DefaultValue("0") int device) {

    /** With {@code compute}: what ActiveModel takes. */
    public EncoderBackends.Settings settings(String compute) {
      Cublas.MathMode mode;
      try {
        mode = Cublas.MathMode.valueOf(math.trim().toUpperCase(java.util.Locale.ROOT));
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("reranker.gpu.math must be fp32 or tf32, got '" + math
            + "'");
      }
      return new EncoderBackends.Settings(EncoderBackends.Compute.parse(compute),
          new GpuSettings(cudaLibrary, cublasLibrary, maxRows, device), maxUsers, mode);
    }
  }

  /** {@code reranker.compute} and {@code reranker.gpu.*} as the model layer takes them. */
  public EncoderBackends.Settings computeSettings() {
    return gpu.settings(compute);
  }

  /**
   * @param deadline a request's time budget (overridable per request by X-Deadline-Ms)
   * @param maxBodyBytes larger request bodies get 413
   * @param maxConcurrentRequests requests beyond this many in flight get 429
   * @param workerThreads threads that compute states and scores under the deadline
   * @param transportProbe serve {@code POST /v1/transport-probe} (off by default): a rerank
   *     request parsed and answered through the same HTTP stack without any scoring, so a
   *     benchmark can tell what HTTP itself costs on a machine
   * @param publicStateEndpoint serve {@code GET /v1/users/{id}/state} without the admin key (off
   *     by default: it tells anyone any user's event count and last event time)
   * @param exposureQueueCapacity exposures held for the producer while it is blocked (the
   *     cluster away); beyond this many they are dropped and counted. ≈ 1 KB each on the heap
   * @param bodyReadTimeout a request's whole body must arrive within this time of its start, or
   *     it gets 408 and the connection is closed (Tomcat's own timeouts bound each read only)
   */
  public record Serving(@DefaultValue("200ms") Duration deadline,
      @DefaultValue("1048576") long maxBodyBytes,
      @DefaultValue("64") int maxConcurrentRequests, @DefaultValue("4") int workerThreads,
      @DefaultValue("false") boolean transportProbe,
      @DefaultValue("false") boolean publicStateEndpoint,
      @DefaultValue("50000") int exposureQueueCapacity,
      @DefaultValue("10s") Duration bodyReadTimeout) {}

  /**
   * @param defaultId the experiment a request without one joins
   * @param definitions experiments: id, salt, weights per arm (performer, softmax, fallback),
   *     shadow, k
   * @param topic the compacted topic through which instances share admin changes (one per
   *     deployment: deployments sharing a cluster must not share it)
   */
  /**
   * @param defaultId the experiment a request without one belongs to
   * @param definitions experiments defined in configuration (the experiments topic wins)
   * @param topic the compacted topic the instances share experiment changes through
   * @param exposuresTopic what each request served (co-partitioned with the interactions)
   * @param outcomesTopic each exposure once resolved
   * @param horizon an exposure without an interaction this long is a miss (default 24 h)
   * @param sweepInterval how often exposures past the horizon are resolved and chart points
   *     written (default 1 min)
   * @param seriesBucket a chart point's time bucket (default 1 h)
   * @param sequentialTau the sequential test's mixing scale, in units of the metric (default 0.02)
   * @param maxP99Ms guardrail: p99 latency per arm (default 50 ms)
   * @param maxDegradedRate guardrail: share of exposures served degraded (default 0.01)
   * @param maxColdStartRate guardrail: share of exposures to users without history (default 0.5)
   * @param targetMde the difference in the primary metric the experiment should be able to
   *     detect; the report says how many days of traffic that still needs (default 0.01)
   * @param maxErrorRate guardrail: share of an arm's requests that fail (default 0.001)
   * @param reportTimeout how long the report waits for each other instance's aggregates
   */
  public record Experiments(@DefaultValue(Experiment.DEFAULT_ID) String defaultId,
      List<ExperimentSpec> definitions, @DefaultValue(Topics.EXPERIMENTS) String topic,
      @DefaultValue(Topics.EXPOSURES) String exposuresTopic,
      @DefaultValue(Topics.OUTCOMES) String outcomesTopic, Duration horizon,
      Duration sweepInterval, Duration seriesBucket, Double sequentialTau, Double maxP99Ms,
      Double maxDegradedRate, Double maxColdStartRate, Double targetMde, Double maxErrorRate,
      @DefaultValue("5s") Duration reportTimeout) {

    public OutcomeJoin.Settings joinSettings() {
      OutcomeJoin.Settings d = OutcomeJoin.Settings.defaults();
      return new OutcomeJoin.Settings(exposuresTopic, outcomesTopic,
          horizon == null ? d.horizon() : horizon,
          sweepInterval == null ? d.sweepEvery() : sweepInterval,
          seriesBucket == null ? d.seriesBucket() : seriesBucket);
    }

    public AggregateReport.Settings reportSettings() {
      AggregateReport.Settings d = AggregateReport.Settings.defaults();
      return new AggregateReport.Settings(sequentialTau == null ? d.tau() : sequentialTau,
          maxP99Ms == null ? d.maxP99Ms() : maxP99Ms,
          maxDegradedRate == null ? d.maxDegradedRate() : maxDegradedRate,
          maxColdStartRate == null ? d.maxColdStartRate() : maxColdStartRate,
          targetMde == null ? d.targetMde() : targetMde,
          maxErrorRate == null ? d.maxErrorRate() : maxErrorRate);
    }
  }

  public record ExperimentSpec(String id, String salt, Map<String, Double> weights,
      boolean shadow, @DefaultValue("10") int k) {}

  /**
   * @param adminApiKey the key admin endpoints require (X-Api-Key or Authorization: Bearer); when
   *     empty, a random key is generated at start-up and logged
   * @param clusterKey the key instances present to each other ({@code X-Reranker-Cluster-Key}) on
   *     {@code /internal/**} and forwarded reranks; the same on every instance, not the admin key.
   *     Required in the {@code prod} profile; otherwise generated when empty (one instance)
   */
  public record Security(String adminApiKey, String clusterKey) {}

  /**
   * @param enabled feed the synthetic generator's events into the interactions topic (the demo)
   * @param eventsPerSecond the feed's rate
   * @param requestsPerSecond rerank requests the demo sends to this instance's own HTTP API, for
   *     users of the feed just before their next event (which resolves the exposure), so that the
   *     experiment has traffic; 0: none. The prod profile sets 0.
   */
  public record Demo(@DefaultValue("false") boolean enabled,
      @DefaultValue("200") double eventsPerSecond,
      @DefaultValue("20") double requestsPerSecond) {}

  /**
   * Model artifacts per arm: a directory, or {@code classpath:models/...} for a bundled one.
   * An arm left empty is not served. {@code library}: a directory of further artifacts (one per
   * subdirectory) that {@code POST /admin/models/{version}/activate} can switch to.
   */
  public record Models(@DefaultValue("classpath:models/demo-performer") String performer,
      @DefaultValue("classpath:models/demo-softmax") String softmax, String library) {}

  /**
   * @param topic the interactions topic
   * @param dlqTopic the dead-letter topic
   * @param partitions partitions of both when the engine creates them
   * @param historyLimit events kept per user
   * @param futureTolerance how far ahead of the clock a timestamp may be
   * @param maxRecordBytes larger records are dead-lettered
   * @param dlqMaxValueBytes dead-lettered values are cut to this length (the original's length
   *     and SHA-256 go in headers)
   * @param microBatchEvents fold pending users after this many events …
   * @param flushInterval … or this often
   * @param eagerArms arms folded as events arrive; others catch up when read
   */
  public record Ingest(String topic, String dlqTopic, @DefaultValue("4") int partitions,
      Integer historyLimit, Duration futureTolerance, Integer maxRecordBytes,
      Integer dlqMaxValueBytes, Integer microBatchEvents, Duration flushInterval,
      Set<Arm> eagerArms) {
    public Ingest {
      IngestSettings d = IngestSettings.defaults();
      topic = topic != null ? topic : d.interactionsTopic();
      dlqTopic = dlqTopic != null ? dlqTopic : d.dlqTopic();
      historyLimit = historyLimit != null ? historyLimit : d.historyLimit();
      futureTolerance = futureTolerance != null ? futureTolerance : d.futureTolerance();
      maxRecordBytes = maxRecordBytes != null ? maxRecordBytes : d.maxRecordBytes();
      dlqMaxValueBytes = dlqMaxValueBytes != null ? dlqMaxValueBytes : d.dlqMaxValueBytes();
      microBatchEvents = microBatchEvents != null ? microBatchEvents : d.microBatchEvents();
      flushInterval = flushInterval != null ? flushInterval : d.flushInterval();
      eagerArms = eagerArms != null ? eagerArms : d.eagerArms();
    }

    /** The ingestion's settings. */
    public IngestSettings settings() {
      return new IngestSettings(topic, dlqTopic, historyLimit, futureTolerance, maxRecordBytes,
          dlqMaxValueBytes, microBatchEvents, flushInterval, eagerArms);
    }
  }

  /**
   * @param cacheMaxBytes the state cache's byte budget (Caffeine maximumWeight)
   * @param expireAfterAccess drop states idle this long (empty: never)
   * @param snapshotEveryEvents snapshot a performer state after this many events …
   * @param snapshotInterval … or this long after its last snapshot, if it changed
   * @param softmaxWindow W, the softmax baseline's window of most recent events
   * @param batchThreshold catch-ups with more events than this run as one batched ND4J pass
   */
  public record State(@DefaultValue("268435456") long cacheMaxBytes, Duration expireAfterAccess,
      Long snapshotEveryEvents, Duration snapshotInterval, Integer softmaxWindow,
      Integer batchThreshold) {
    public State {
      UserStates.Settings d = UserStates.Settings.defaults();
      snapshotEveryEvents = snapshotEveryEvents != null ? snapshotEveryEvents
          : d.snapshotEveryEvents();
      snapshotInterval = snapshotInterval != null ? snapshotInterval : d.snapshotInterval();
      softmaxWindow = softmaxWindow != null ? softmaxWindow : d.softmaxWindow();
      batchThreshold = batchThreshold != null ? batchThreshold : d.batchThreshold();
    }

    /** The state engine's settings. */
    public UserStates.Settings settings() {
      return new UserStates.Settings(snapshotEveryEvents, snapshotInterval, softmaxWindow,
          batchThreshold);
    }
  }

  /**
   * @param embeddedDataDir where the in-process broker keeps its data (used only when no
   *     {@code spring.kafka.bootstrap-servers} is configured)
   * @param embeddedPort its client port (0: any free port)
   * @param replicationFactor of the topics the engine creates
   * @param brokerCheckInterval how often the engine asks the cluster for its brokers (readiness
   *     and {@code reranker.kafka.broker.reachable})
   * @param brokerUnreachableAfter readiness goes DOWN once no check has reached a broker for this
   *     long (a few missed checks, not one slow answer); it comes UP with the next good check
   * @param readinessRequiresBroker whether readiness goes DOWN while the brokers are unreachable.
   *     On by default, as an operator expects a readiness that says "not taking part"; note that
   *     when every instance loses the cluster together a Kubernetes Service then has no ready
   *     endpoint, although each instance would still answer from its cached states. Turn it off
   *     to keep serving through a cluster outage (the gauge and the alert still tell)
   * @param topicCheckTimeout how long the start-up check of the topics ({@code KafkaTopics}:
   *     create the missing, compare the partition counts) waits for the cluster before it lets
   *     the start go on unchecked
   */
  public record Kafka(@DefaultValue("data/kafka") String embeddedDataDir,
      @DefaultValue("0") int embeddedPort, @DefaultValue("1") short replicationFactor,
      @DefaultValue("2s") Duration brokerCheckInterval,
      @DefaultValue("6s") Duration brokerUnreachableAfter,
      @DefaultValue("true") boolean readinessRequiresBroker,
      @DefaultValue("30s") Duration topicCheckTimeout) {}
}
