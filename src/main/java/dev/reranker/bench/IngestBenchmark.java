package dev.reranker.bench;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.reranker.data.EventType;
import dev.reranker.data.Interaction;
import dev.reranker.data.InteractionJson;
import dev.reranker.ingest.InProcessKafkaBroker;
import dev.reranker.ingest.IngestMetrics;
import dev.reranker.ingest.IngestSettings;
import dev.reranker.ingest.IngestTopology;
import dev.reranker.model.Arm;
import dev.reranker.model.EncoderState;
import dev.reranker.model.IncrementalEncoder;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.state.ActiveModel;
import dev.reranker.state.ModelRegistry;
import dev.reranker.state.StateCache;
import dev.reranker.state.StateKey;
import dev.reranker.state.UserStates;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;

/**
 * End-to-end ingestion rate against a bare Kafka consumer, on the same topic, in the same run.
 *
 * <ol>
 *   <li>Start a broker (in-process unless bootstrap servers are given), create a topic, produce N
 *       synthetic events for U users (items from the model's catalogue).</li>
 *   <li><b>Bare consumer</b>: one {@code KafkaConsumer} reads the N records (no parsing): the
 *       ceiling for anything that consumes this topic on this machine.</li>
 *   <li><b>Ingest</b>: the engine's topology on Kafka Streams with the service's settings
 *       (exactly_once_v2, RocksDB, changelogs), from the first record until every record is applied
 *       — validated, deduplicated, stored — and every user's performer state has folded its last
 *       event.</li>
 * </ol>
 * Where the time goes comes from the processor's stage timers; the rest is Kafka (polling,
 * transactions, changelog production) and RocksDB flushes. Changelog bytes per event are read from
 * the broker's log directories.
 */
public final class IngestBenchmark {

  /** Settings. */
  public record Options(int events, int users, int partitions, String bootstrapServers,
      long seed, int commitIntervalMs, long streamsCacheBytes) {
    public Options {
      if (events < 1 || users < 1 || partitions < 1) {
        throw new IllegalArgumentException("events, users and partitions must be ≥ 1");
      }
      if (commitIntervalMs < 1) {
        throw new IllegalArgumentException("commit interval must be ≥ 1 ms");
      }
    }

    /** The service's defaults: commit every 100 ms, Kafka Streams' own record cache size. */
    public Options(int events, int users, int partitions, String bootstrapServers, long seed) {
      this(events, users, partitions, bootstrapServers, seed, 100, -1);
    }
  }

  private final Options options;
  private final ModelArtifacts.TrainedModel model;
  private final PrintStream log;

  public IngestBenchmark(Options options, ModelArtifacts.TrainedModel model, PrintStream log) {
    if (model.config().arm() != Arm.PERFORMER) {
      throw new IllegalArgumentException("the ingest benchmark folds performer states: give a "
          + "performer model");
    }
    this.options = options;
    this.model = model;
    this.log = log;
  }

  public Map<String, Object> run() throws Exception {
    Path work = Files.createTempDirectory("reranker-bench-ingest");
    try {
      return runIn(work);
    } finally {
      BenchFiles.deleteTree(work);
    }
  }

  private Map<String, Object> runIn(Path work) throws Exception {
    InProcessKafkaBroker broker = options.bootstrapServers() == null
        ? InProcessKafkaBroker.start(work.resolve("kafka"), 0) : null;
    String servers = broker != null ? broker.bootstrapServers() : options.bootstrapServers();
    String run = UUID.randomUUID().toString().substring(0, 8);
    String topic = "bench-interactions-" + run;
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, servers))) {
      admin.createTopics(List.of(new NewTopic(topic, options.partitions(), (short) 1),
          new NewTopic(topic + "-dlq", options.partitions(), (short) 1))).all().get();
      double produceRate = produce(servers, topic);
      log.printf("produced %,d events for %,d users (%,.0f events/s)%n", options.events(),
          options.users(), produceRate);
      double bare = bareConsumer(servers, topic);
      log.printf("bare consumer: %,.0f events/s%n", bare);
      double noop = noopProcessor(servers, topic, work, run);
      log.printf("no-op Kafka Streams processor (exactly_once_v2): %,.0f events/s%n", noop);
      Map<String, Object> noFold = ingest(servers, topic, work, run + "-nofold", admin, false);
      double noFoldRate = (double) noFold.remove("events_per_s");
      log.printf("ingest without the fold: %,.0f events/s%n", noFoldRate);
      Map<String, Object> ingest = ingest(servers, topic, work, run, admin, true);
      double ingestRate = (double) ingest.remove("events_per_s");
      log.printf("ingest: %,.0f events/s (%.2f of the no-fold topology, %.3f of the bare "
          + "consumer)%n", ingestRate, ingestRate / noFoldRate, ingestRate / bare);
      Roofline roofline = Roofline.measure(rooflineShapes());
      log.println(roofline.describe());
      Map<String, Object> fold = foldCost();
      log.printf("fold at position 101 / 100,001 / 1,000,001: %.2f / %.2f / %.2f µs; state "
          + "bytes %s / %s / %s%n", fold.get("fold_us_at_position_101"),
          fold.get("fold_us_at_position_100001"), fold.get("fold_us_at_position_1000001"),
          fold.get("state_bytes_at_101"), fold.get("state_bytes_at_100001"),
          fold.get("state_bytes_at_1000001"));
      Map<String, Object> folds = foldRoofline(roofline, (Double) fold.get(
          "fold_us_at_position_101"));
      log.printf("fold per event: single %.2f µs (%.3f of its roofline), batched (1 event × %,d "
          + "users) %.2f µs (%.3f), the batch's states on one thread %.2f µs; through batched "
          + "ND4J windows %.2f µs%n",
          folds.get("single_fold_us"), folds.get("single_fold_roofline_fraction"), BATCH_USERS,
          folds.get("batched_fold_us"), folds.get("batched_fold_roofline_fraction"),
          folds.get("single_fold_cold_states_us"), folds.get("batched_fold_nd4j_windows_us"));

      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("benchmark", "ingest");
      Map<String, Object> config = new LinkedHashMap<>();
      config.put("events", options.events());
      config.put("users", options.users());
      config.put("partitions", options.partitions());
      config.put("model", model.version());
      config.put("model_dim", model.config().dim());
      config.put("model_layers", model.config().layers());
      config.put("broker", broker != null ? "in-process" : servers);
      config.put("processing_guarantee", "exactly_once_v2");
      config.put("commit_interval_ms", options.commitIntervalMs());
      config.put("streams_cache_max_bytes", options.streamsCacheBytes() >= 0
          ? options.streamsCacheBytes() : "Kafka Streams' default");
      doc.put("config", config);
      doc.put("machine", Machine.describe());
      doc.put("ingest_events_per_s", Math.round(ingestRate));
      doc.put("no_fold_events_per_s", Math.round(noFoldRate));
      doc.put("noop_processor_events_per_s", Math.round(noop));
      doc.put("bare_consumer_events_per_s", Math.round(bare));
      doc.put("ingest_vs_no_fold", round(ingestRate / noFoldRate));
      doc.put("no_fold_vs_bare_consumer", round(noFoldRate / bare));
      doc.put("noop_processor_vs_bare_consumer", round(noop / bare));
      doc.put("ratio", round(ingestRate / bare));
      doc.putAll(folds);
      doc.put("roofline", roofline.toJson());
      Map<String, Object> targets = new LinkedHashMap<>();
      targets.put("ingest_vs_no_fold >= 0.8", ingestRate >= 0.8 * noFoldRate);
      targets.put("no_fold_vs_bare_consumer >= 0.15", noFoldRate >= 0.15 * bare);
      targets.put("batched_fold_roofline_fraction >= 0.5",
          (Double) folds.get("batched_fold_roofline_fraction") >= 0.5);
      targets.put("batched_fold_us <= single_fold_us",
          (Double) folds.get("batched_fold_us") <= (Double) folds.get("single_fold_us"));
      // the same comparison on the same work: the batch's cold states folded on one thread
      targets.put("batched_fold_us <= single_fold_cold_states_us",
          (Double) folds.get("batched_fold_us")
              <= (Double) folds.get("single_fold_cold_states_us"));
      targets.put("single_fold_roofline_fraction >= 0.25",
          (Double) folds.get("single_fold_roofline_fraction") >= 0.25);
      doc.put("targets", targets);
      doc.put("produce_events_per_s", Math.round(produceRate));
      doc.putAll(ingest);
      Map<?, ?> fresh = (Map<?, ?>) ingest.get("freshness");
      doc.put("freshness_ms_p50", fresh.get("p50_ms"));
      doc.put("freshness_ms_p99", fresh.get("p99_ms"));
      targets.put("freshness_ms_p99 <= 100", (Double) fresh.get("p99_ms") <= 100
          && ((Long) fresh.get("timed_out")) == 0);
      doc.put("no_fold", noFold);
      doc.put("fold_cost", fold);
      return doc;
    } finally {
      if (broker != null) {
        broker.close();
      }
    }
  }

  private double produce(String servers, String topic) throws Exception {
    SplittableRandom random = new SplittableRandom(options.seed());
    List<String> items = model.items().ids();
    long t0 = System.currentTimeMillis() - options.events() * 10L;
    long start = System.nanoTime();
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers, ProducerConfig.LINGER_MS_CONFIG, 10,
        ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024, ProducerConfig.ACKS_CONFIG, "all"),
        new StringSerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < options.events(); i++) {
        String user = "u" + (i % options.users());
        Interaction e = new Interaction(user, items.get(random.nextInt(items.size())),
            t0 + i * 10L, EventType.VIEW, "bench-" + i);
        producer.send(new ProducerRecord<>(topic, user,
            InteractionJson.toJson(e).getBytes(StandardCharsets.UTF_8)));
      }
      producer.flush();
    }
    return options.events() / ((System.nanoTime() - start) / 1e9);
  }

  private double bareConsumer(String servers, String topic) {
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, servers,
        ConsumerConfig.GROUP_ID_CONFIG, "bench-bare-" + topic,
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
        new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(topic));
      long seen = 0;
      long first = 0;
      long bytes = 0;
      while (seen < options.events()) {
        ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(100));
        if (!records.isEmpty() && first == 0) {
          first = System.nanoTime();
        }
        for (var r : records) {
          bytes += r.value().length; // touch the payload, as any consumer would
        }
        seen += records.count();
      }
      double seconds = (System.nanoTime() - first) / 1e9;
      if (bytes == 0) {
        throw new IllegalStateException("no payload read");
      }
      return seen / seconds;
    }
  }

  private Map<String, Object> ingest(String servers, String topic, Path work, String run,
      Admin admin, boolean fold) throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    StateCache cache = new StateCache(1L << 30, null, Ticker.systemTicker());
    UserStates states = new UserStates(
        new ModelRegistry(Map.of(Arm.PERFORMER, new ActiveModel(model))), cache,
        Clock.systemUTC(), UserStates.Settings.defaults(), registry);
    IngestMetrics metrics = new IngestMetrics(registry);
    IngestSettings defaults = IngestSettings.defaults();
    IngestSettings settings = new IngestSettings(topic, topic + "-dlq", defaults.historyLimit(),
        defaults.futureTolerance(), defaults.maxRecordBytes(), defaults.dlqMaxValueBytes(),
        defaults.microBatchEvents(), defaults.flushInterval(),
        fold ? defaults.eagerArms() : java.util.Set.of());
    StreamsBuilder builder = new StreamsBuilder();
    IngestTopology.build(builder, settings, states, metrics, Clock.systemUTC());
    String appId = "bench-ingest-" + run;
    Properties props = streamsConfig(appId, servers, work.resolve("streams-" + run));
    long startedAt = System.nanoTime();
    long first = 0;
    props.putAll(IngestTopology.streamsProperties(settings, metrics));
    try (KafkaStreams streams = new KafkaStreams(builder.build(), props)) {
      streams.start();
      long deadline = System.nanoTime() + 30L * 60 * 1_000_000_000L;
      while (System.nanoTime() < deadline) {
        long applied = metrics.appliedCount();
        if (applied > 0 && first == 0) {
          first = System.nanoTime();
        }
        if (applied == options.events() && (!fold || allFolded(cache))) {
          break;
        }
        Thread.sleep(5);
      }
      long end = System.nanoTime();
      if (metrics.appliedCount() != options.events()) {
        throw new IllegalStateException("ingest did not finish: " + metrics.appliedCount()
            + " of " + options.events() + " applied");
      }
      double seconds = (end - first) / 1e9;
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("events_per_s", options.events() / seconds);
      out.put("ingest_seconds", round(seconds));
      out.put("startup_seconds", round((first - startedAt) / 1e9));
      Map<String, Object> where = new LinkedHashMap<>();
      double accounted = 0;
      for (var s : metrics.stageSeconds().entrySet()) {
        where.put(s.getKey().name().toLowerCase(), round(s.getValue()));
        accounted += s.getValue();
      }
      where.put("kafka_and_commits", round(Math.max(0, seconds - accounted)));
      out.put("seconds_by_stage", where);
      Map<String, Object> changelog = new LinkedHashMap<>();
      metrics.changelogBytes().forEach((k, v) -> changelog.put(k + "_bytes_written_per_event",
          round((double) v / options.events())));
      changelog.put("broker_log_bytes_per_event", round((double) changelogLogBytes(admin, appId)
          / options.events()));
      out.put("changelog", changelog);
      if (fold) {
        out.put("freshness", freshness(servers, topic, cache));
      }
      out.put("cached_users", cache.estimatedSize());
      if (fold) {
        out.put("state_bytes_per_user", cache.bytesByArm().get(Arm.PERFORMER)
            / Math.max(1, cache.estimatedSize()));
      }
      streams.close(Duration.ofSeconds(30));
      return out;
    }
  }

  /**
   * Kafka Streams' own floor on this topic: a source and a processor that only counts, with the
   * same processing guarantee (exactly_once_v2), commit interval and poll size as the ingest.
   */
  private double noopProcessor(String servers, String topic, Path work, String run)
      throws Exception {
    java.util.concurrent.atomic.AtomicLong seen = new java.util.concurrent.atomic.AtomicLong();
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(topic, org.apache.kafka.streams.kstream.Consumed.with(
        org.apache.kafka.common.serialization.Serdes.ByteArray(),
        org.apache.kafka.common.serialization.Serdes.ByteArray()))
        .process(() -> new org.apache.kafka.streams.processor.api.Processor<byte[], byte[],
            Void, Void>() {
          @Override
          public void process(org.apache.kafka.streams.processor.api.Record<byte[], byte[]> r) {
            seen.incrementAndGet();
          }
        });
    Properties props = streamsConfig("bench-noop-" + run, servers,
        work.resolve("streams-noop-" + run));
    long first = 0;
    try (KafkaStreams streams = new KafkaStreams(builder.build(), props)) {
      streams.start();
      long deadline = System.nanoTime() + 10L * 60 * 1_000_000_000L;
      while (seen.get() < options.events() && System.nanoTime() < deadline) {
        if (first == 0 && seen.get() > 0) {
          first = System.nanoTime();
        }
        Thread.sleep(2);
      }
      long end = System.nanoTime();
      if (seen.get() < options.events()) {
        throw new IllegalStateException("no-op processor saw " + seen.get() + " of "
            + options.events());
      }
      streams.close(Duration.ofSeconds(30));
      return options.events() / ((end - first) / 1e9);
    }
  }

  /**
   * Produce-to-visible latency: probe events, 50 a second for 10 s, each for one of 50 fresh
   * users, sent (linger 0, acks all) while a background producer adds 2,000 events a second for
   * the benchmark's users; each probe is timed from its send until the user's cached performer
   * state — what a rerank reads without catching up — has folded it, polled every 100 µs. The
   * topology runs with the service's settings (exactly_once_v2, the commit interval asked for, 100 ms by default as in the service).
   */
  private Map<String, Object> freshness(String servers, String topic, StateCache cache)
      throws Exception {
    int probeUsers = 50;
    int probes = 500;
    org.HdrHistogram.Histogram latencies = new org.HdrHistogram.Histogram(60_000_000L, 3);
    java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic
        .AtomicBoolean();
    List<String> items = model.items().ids();
    Map<String, Object> producerConfig = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers,
        ProducerConfig.LINGER_MS_CONFIG, 0, ProducerConfig.ACKS_CONFIG, "all");
    long[] background = new long[1];
    Thread load = new Thread(() -> {
      SplittableRandom r = new SplittableRandom(options.seed() + 99);
      try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(producerConfig,
          new StringSerializer(), new ByteArraySerializer())) {
        long next = System.nanoTime();
        while (!stop.get()) {
          for (int i = 0; i < 20; i++) { // 20 per 10 ms
            String user = "u" + r.nextInt(options.users());
            Interaction e = new Interaction(user, items.get(r.nextInt(items.size())),
                System.currentTimeMillis(), EventType.VIEW, "load-" + background[0]++);
            producer.send(new ProducerRecord<>(topic, user,
                InteractionJson.toJson(e).getBytes(StandardCharsets.UTF_8)));
          }
          next += 10_000_000L;
          java.util.concurrent.locks.LockSupport.parkNanos(next - System.nanoTime());
        }
      }
    }, "bench-freshness-load");
    load.start();
    SplittableRandom r = new SplittableRandom(options.seed() + 7);
    long timedOut = 0;
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(producerConfig,
        new StringSerializer(), new ByteArraySerializer())) {
      long[] positions = new long[probeUsers];
      long next = System.nanoTime();
      for (int i = 0; i < probes; i++) {
        int u = i % probeUsers;
        String user = "fresh-" + u;
        long expected = ++positions[u];
        Interaction e = new Interaction(user, items.get(r.nextInt(items.size())),
            System.currentTimeMillis(), EventType.VIEW, "fresh-" + i);
        long sent = System.nanoTime();
        producer.send(new ProducerRecord<>(topic, user,
            InteractionJson.toJson(e).getBytes(StandardCharsets.UTF_8)));
        long deadline = sent + 10_000_000_000L;
        while (true) {
          var state = cache.getIfPresent(new StateKey(user, Arm.PERFORMER));
          if (state != null && state.historyPosition() >= expected) {
            latencies.recordValue(Math.max(1, (System.nanoTime() - sent) / 1000));
            break;
          }
          if (System.nanoTime() > deadline) {
            timedOut++;
            break;
          }
          java.util.concurrent.locks.LockSupport.parkNanos(100_000);
        }
        next += 20_000_000L;
        java.util.concurrent.locks.LockSupport.parkNanos(next - System.nanoTime());
      }
    } finally {
      stop.set(true);
      load.join();
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("probes", probes);
    out.put("timed_out", timedOut);
    out.put("background_events", background[0]);
    out.put("p50_ms", round(latencies.getValueAtPercentile(50) / 1e3));
    out.put("p99_ms", round(latencies.getValueAtPercentile(99) / 1e3));
    out.put("max_ms", round(latencies.getMaxValue() / 1e3));
    out.put("commit_interval_ms", options.commitIntervalMs());
    return out;
  }

  /** The settings every measured topology shares: exactly_once_v2, commit interval, cache, poll. */
  private Properties streamsConfig(String appId, String servers, Path stateDir) {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, options.commitIntervalMs());
    if (options.streamsCacheBytes() >= 0) {
      props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, options.streamsCacheBytes());
    }
    props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_POLL_RECORDS_CONFIG), 2000);
    return props;
  }

  /** Users in the batched-fold probe: one new event each. */
  static final int BATCH_USERS = 2000;

  /** The fewest passes of the batched-fold probe before the timed ones (JIT compilation). */
  static final int BATCH_WARMUP_PASSES = 20;

  /** Consecutive windows of five passes without compilation before the probe times. */
  static final int QUIET_WINDOWS = 3;

  /** The longest the batched-fold probe waits for the JIT to finish compiling. */
  static final int MAX_WARMUP_SECONDS = 30;

  /** Timed passes of the batched-fold probe; it reports their median. */
  static final int BATCH_TIMED_PASSES = 20;

  /** The GEMM shapes of a batched fold: the projections and the FFN over a batch of events. */
  private Map<String, int[]> rooflineShapes() {
    int d = model.config().dim();
    int f = model.config().ffnDim();
    Map<String, int[]> shapes = new LinkedHashMap<>();
    shapes.put("projection", new int[] {BATCH_USERS, d, d});
    shapes.put("ffn in", new int[] {BATCH_USERS, d, f});
    shapes.put("ffn out", new int[] {BATCH_USERS, f, d});
    return shapes;
  }

  /**
   * FLOP of folding one event into a performer state, per layer: the q, k, v and output
   * projections (4 × 2d²), the FFN (2 × 2df), the q and k feature maps (2 × 2dm over the heads),
   * and per head the state update φ(k)ᵀ[v, 1] and readout φ(q)[S | z] (2 × 2m(d/h + 1)).
   */
  static double foldFlop(dev.reranker.model.ModelConfig c) {
    double d = c.dim();
    double f = c.ffnDim();
    double m = c.features();
    double h = c.heads();
    double perLayer = 8 * d * d + 4 * d * f + 4 * d * m + 4 * m * (d + h);
    return c.layers() * perLayer;
  }

  /**
   * Single and batched folds against their floor. Bytes: each fold reads and writes the user's
   * whole state (the weights stay in cache across a batch, and a single fold's 0.4 MB of weights
   * stays in L2 between events). Single: the median µs of {@link #foldCost}. Batched: one new
   * event for each of {@value #BATCH_USERS} users, states at position 100, through the engine's
   * batched path ({@code BatchFolder}: blocks of users folded on plain arrays, spread over the
   * cores), median of {@value #BATCH_TIMED_PASSES} passes; {@code batched_fold_nd4j_windows_us}
   * is the same work through its batched ND4J window pass, for comparison.
   */
  private Map<String, Object> foldRoofline(Roofline roofline, double singleUs) {
    IncrementalEncoder encoder = new IncrementalEncoder(model.plainWeights());
    int items = model.config().items();
    EncoderState base = encoder.newState();
    for (int i = 0; i < 100; i++) {
      encoder.fold(base, i % items, i * 1000L);
    }
    double flop = foldFlop(model.config());
    double bytes = 2.0 * base.byteSize();
    dev.reranker.model.BatchFolder folder = new dev.reranker.model.BatchFolder(
        model.sequenceModel(), model.plainWeights());
    dev.reranker.model.BatchFolder nd4jWindows = new dev.reranker.model.BatchFolder(
        model.sequenceModel(), model.plainWeights(), 0);
    SplittableRandom random = new SplittableRandom(options.seed());
    double batchedUs = batchedFoldUs(folder, base, items, random);
    double nd4jUs = batchedFoldUs(nd4jWindows, base, items, random);
    // the batch's work on one thread: the same 2,000 states, which no cache holds either
    IncrementalEncoder one = new IncrementalEncoder(model.plainWeights());
    double oneThreadUs = batchedFoldUs(work -> {
      for (dev.reranker.model.EncoderBackend.Work w : work) {
        one.fold(w.state(), w.items()[0], w.timestamps()[0]);
      }
    }, base, items, random);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("fold_flop_per_event", flop);
    out.put("fold_state_bytes_moved_per_event", bytes);
    out.put("fold_floor_us", round(roofline.floorSeconds(flop, bytes) * 1e6));
    out.put("fold_bound", roofline.bound(flop, bytes));
    out.put("single_fold_us", round(singleUs));
    out.put("single_fold_roofline_fraction", round(roofline.fraction(flop, bytes,
        singleUs / 1e6)));
    out.put("batched_fold_users", BATCH_USERS);
    out.put("batched_fold_us", round(batchedUs));
    out.put("batched_fold_nd4j_windows_us", round(nd4jUs));
    out.put("single_fold_cold_states_us", round(oneThreadUs));
    out.put("batched_fold_roofline_fraction", round(roofline.fraction(flop, bytes,
        batchedUs / 1e6)));
    return out;
  }

  /**
   * µs per event of one new event for each of {@value #BATCH_USERS} users, the median of
   * {@value #BATCH_TIMED_PASSES} passes, each folding 2,000 fresh copies of a state (which no
   * core's cache holds). Before them, warm-up passes until the JIT is quiet ({@link
   * #untilCompilerQuiet}): on two cores a compiler thread still working through the run's backlog
   * takes the core the fold pool needs, and the batched fold measured 2.2–2.6 µs per event then
   * against 1.2–1.4 once C2 was done (2-core AMD EPYC, 2026-12-07). A service folds with its
   * compiler long done.
   */
  private static double batchedFoldUs(dev.reranker.model.BatchFolder folder, EncoderState base,
      int items, SplittableRandom random) {
    return batchedFoldUs(folder::run, base, items, random);
  }

  private static double batchedFoldUs(
      java.util.function.Consumer<List<dev.reranker.model.EncoderBackend.Work>> folder,
      EncoderState base, int items, SplittableRandom random) {
    untilCompilerQuiet(() -> batchPass(folder, base, items, random));
    double[] passes = new double[BATCH_TIMED_PASSES];
    for (int r = 0; r < passes.length; r++) {
      passes[r] = batchPass(folder, base, items, random);
    }
    return AttentionBenchmark.median(passes);
  }

  /** One pass of the batched-fold probe: µs per event. */
  private static double batchPass(
      java.util.function.Consumer<List<dev.reranker.model.EncoderBackend.Work>> folder,
      EncoderState base, int items, SplittableRandom random) {
    List<dev.reranker.model.EncoderBackend.Work> work = new java.util.ArrayList<>();
    for (int u = 0; u < BATCH_USERS; u++) {
      EncoderState s = base.copy();
      work.add(new dev.reranker.model.EncoderBackend.Work(s, new int[] {random.nextInt(items)},
          new long[] {200_000L + u}, s.position(), s.lastTimestamp()));
    }
    long start = System.nanoTime();
    folder.accept(work);
    return (System.nanoTime() - start) / 1e3 / BATCH_USERS;
  }

  /**
   * Runs {@code pass} at least {@value #BATCH_WARMUP_PASSES} times, then until the JIT compilers
   * spent under 2 % of the wall time compiling in {@value #QUIET_WINDOWS} consecutive windows of
   * five passes, at most {@value #MAX_WARMUP_SECONDS} s (where the JVM does not report compilation
   * time: the minimum only). One quiet window was not enough: a lull between two compilations
   * passed it, and a recompilation (after a deoptimisation) then ran through the timed passes at
   * 2.2–2.4 µs per event against 1.35 once done.
   */
  static void untilCompilerQuiet(Runnable pass) {
    java.lang.management.CompilationMXBean jit =
        java.lang.management.ManagementFactory.getCompilationMXBean();
    boolean measurable = jit != null && jit.isCompilationTimeMonitoringSupported();
    long deadline = System.nanoTime() + MAX_WARMUP_SECONDS * 1_000_000_000L;
    for (int r = 0; r < BATCH_WARMUP_PASSES; r++) {
      pass.run();
    }
    int quiet = 0; // consecutive windows of five passes without compilation
    while (measurable && quiet < QUIET_WINDOWS && System.nanoTime() < deadline) {
      long compiledMs = jit.getTotalCompilationTime();
      long start = System.nanoTime();
      for (int r = 0; r < 5; r++) {
        pass.run();
      }
      double wallMs = (System.nanoTime() - start) / 1e6;
      quiet = jit.getTotalCompilationTime() - compiledMs < 0.02 * wallMs ? quiet + 1 : 0;
    }
  }

  private boolean allFolded(StateCache cache) {
    long expectedPerUser = options.events() / options.users();
    for (int u = 0; u < options.users(); u++) {
      var entry = cache.getIfPresent(new StateKey("u" + u, Arm.PERFORMER));
      long expected = expectedPerUser + (u < options.events() % options.users() ? 1 : 0);
      if (entry == null || entry.historyPosition() != expected) {
        return false;
      }
    }
    return true;
  }

  /** Bytes on the broker in the changelog topics of this application. */
  private static long changelogLogBytes(Admin admin, String appId) throws Exception {
    long bytes = 0;
    Map<Integer, Map<String, LogDirDescription>> dirs = admin.describeLogDirs(List.of(1))
        .allDescriptions().get();
    for (Map<String, LogDirDescription> byDir : dirs.values()) {
      for (LogDirDescription d : byDir.values()) {
        for (var replica : d.replicaInfos().entrySet()) {
          if (replica.getKey().topic().startsWith(appId) && replica.getKey().topic()
              .endsWith("-changelog")) {
            bytes += replica.getValue().size();
          }
        }
      }
    }
    return bytes;
  }

  /**
   * Folding one event into a state at position 100, 100,000 and 1,000,000 (plain arrays): a
   * lifetime's state costs what a new user's does. The three are timed in interleaved rounds, so
   * a change in the machine's load falls on all of them alike.
   */
  private Map<String, Object> foldCost() {
    IncrementalEncoder encoder = new IncrementalEncoder(model.plainWeights());
    EncoderState young = encoder.newState();
    EncoderState old = null;
    EncoderState lifetime = encoder.newState();
    for (int i = 0; i < 1_000_000; i++) {
      if (i < 100) {
        encoder.fold(young, i % model.config().items(), i * 1000L);
      }
      if (i == 100_000) {
        old = lifetime.copy();
      }
      encoder.fold(lifetime, i % model.config().items(), i * 1000L);
    }
    EncoderState[] states = {young, old, lifetime};
    double[][] rounds = new double[states.length][15];
    for (int r = 0; r < 15; r++) {
      for (int s = 0; s < states.length; s++) {
        rounds[s][r] = foldMicros(encoder, states[s]);
      }
    }
    double youngUs = AttentionBenchmark.median(rounds[0]);
    double oldUs = AttentionBenchmark.median(rounds[1]);
    double lifetimeUs = AttentionBenchmark.median(rounds[2]);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("fold_us_at_position_101", round(youngUs));
    out.put("fold_us_at_position_100001", round(oldUs));
    out.put("fold_us_at_position_1000001", round(lifetimeUs));
    out.put("ratio", round(oldUs / youngUs));
    out.put("ratio_1000001", round(lifetimeUs / youngUs));
    out.put("state_bytes_at_101", young.byteSize());
    out.put("state_bytes_at_100001", old.byteSize());
    out.put("state_bytes_at_1000001", lifetime.byteSize());
    out.put("user_vector_finite_at_1000001", allFinite(lifetime.userVector()));
    return out;
  }

  private static boolean allFinite(float[] xs) {
    for (float x : xs) {
      if (!Float.isFinite(x)) {
        return false;
      }
    }
    return true;
  }

  /** µs per event of 500 folds onto a copy of {@code base}. */
  private double foldMicros(IncrementalEncoder encoder, EncoderState base) {
    EncoderState s = base.copy();
    int n = 500;
    long start = System.nanoTime();
    for (int i = 0; i < n; i++) {
      encoder.fold(s, i % model.config().items(), 2_000_000_000L + i * 1000L);
    }
    return (System.nanoTime() - start) / 1e3 / n;
  }

  /** A table of the JSON's headline numbers. */
  @SuppressWarnings("unchecked")
  public static String table(Map<String, Object> doc) {
    StringBuilder b = new StringBuilder();
    b.append("| measure | value |\n|---|---:|\n");
    b.append(String.format("| bare consumer, events/s | %,d |%n",
        (Long) doc.get("bare_consumer_events_per_s")));
    b.append(String.format("| ingest (validate, dedup, store, fold), events/s | %,d |%n",
        (Long) doc.get("ingest_events_per_s")));
    b.append(String.format("| ingest without the fold, events/s | %,d |%n",
        (Long) doc.get("no_fold_events_per_s")));
    b.append(String.format("| no-op Kafka Streams processor, events/s | %,d |%n",
        (Long) doc.get("noop_processor_events_per_s")));
    b.append(String.format("| ingest / bare consumer | %.3f |%n", (Double) doc.get("ratio")));
    b.append(String.format("| fold floor per event (%s-bound), µs | %.2f |%n",
        doc.get("fold_bound"), (Double) doc.get("fold_floor_us")));
    b.append(String.format("| single fold, µs (÷ floor) | %.2f (%.3f) |%n",
        (Double) doc.get("single_fold_us"), (Double) doc.get("single_fold_roofline_fraction")));
    b.append(String.format("| batched fold, 1 event × %,d users, µs (÷ floor) | %.2f (%.3f) |%n",
        (Integer) doc.get("batched_fold_users"), (Double) doc.get("batched_fold_us"),
        (Double) doc.get("batched_fold_roofline_fraction")));
    if (doc.get("single_fold_cold_states_us") != null) {
      b.append(String.format("| the batch's states folded on one thread, µs | %.2f |%n",
          (Double) doc.get("single_fold_cold_states_us")));
    }
    b.append(String.format("| the same through batched ND4J windows, µs | %.2f |%n",
        (Double) doc.get("batched_fold_nd4j_windows_us")));
    b.append(String.format("| freshness, produce to folded state, p50 / p99 ms | %.1f / %.1f |%n",
        (Double) doc.get("freshness_ms_p50"), (Double) doc.get("freshness_ms_p99")));
    ((Map<String, Object>) doc.get("targets")).forEach((k, v) ->
        b.append(String.format("| target %s | %s |%n", k, Boolean.TRUE.equals(v) ? "met"
            : "NOT met")));
    ((Map<String, Object>) doc.get("seconds_by_stage")).forEach((k, v) ->
        b.append(String.format("| seconds in %s | %s |%n", k, v)));
    ((Map<String, Object>) doc.get("changelog")).forEach((k, v) ->
        b.append(String.format("| changelog %s | %s |%n", k, v)));
    ((Map<String, Object>) doc.get("fold_cost")).forEach((k, v) ->
        b.append(String.format("| %s | %s |%n", k, v)));
    return b.toString();
  }

  static double round(double x) {
    return Math.round(x * 1000) / 1000.0;
  }
}
