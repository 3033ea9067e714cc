package dev.reranker.bench;

import dev.reranker.config.RerankerApplication;
import dev.reranker.data.EventType;
import dev.reranker.data.Interaction;
import dev.reranker.data.InteractionJson;
import dev.reranker.experiment.ArmChoice;
import dev.reranker.experiment.ExperimentRegistry;
import dev.reranker.ingest.IngestMetrics;
import dev.reranker.serving.RerankApi;
import dev.reranker.serving.ExperimentAggregates;
import dev.reranker.serving.ExposurePublisher;
import dev.reranker.serving.RerankService;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * HTTP reranking throughput on loopback against the same scoring called in-process, in one run.
 *
 * <p>The service starts in this JVM (in-process broker, REST API on a free port) with two models
 * of production size (5,000 items, d = 64, 2 layers; random weights: the cost, not the quality, is
 * measured). Users get histories through Kafka; then, per arm, a pool of client threads sends
 * {@code POST /v1/rerank} with N candidates for {@code seconds} (latencies recorded per request),
 * and the same number of threads call {@code RerankService.rerank} directly for as long (the
 * whole request path below HTTP: validation, arm assignment, state catch-up, scoring, exposure
 * publishing, metrics). The HTTP client is a raw keep-alive socket per thread with the requests
 * serialised up front, so the load generator, which shares the cores with the service, costs
 * little. Process CPU time per request is reported for both paths: their difference is what HTTP
 * (Tomcat, Spring MVC, Jackson, the loopback) costs.
 *
 * <p>A third phase measures the transport alone: the same requests to {@code POST
 * /v1/transport-probe}, which goes through the same HTTP stack (guards, security chain, Spring
 * MVC, Jackson both ways) and answers a response of the same shape without any engine work. Its
 * CPU per request {@code f} bounds what the HTTP/in-process ratio can be on this machine: with
 * both phases CPU-bound, HTTP costs at least {@code a + f} per request where in-process costs
 * {@code a}, so the ratio is at most {@code a / (a + f)} ({@code http_ratio_bound}).
 *
 * <p>Every answer is an exposure, which the stream thread joins later (parse, pending stores,
 * aggregates): work a request causes but does not wait for. The in-process phase answers three to
 * four times as fast as HTTP, faster than that thread joins, so until 2026-12-08 it left a backlog
 * of 300,000 exposures that ran in the phases after it (the open loops included), and its CPU per
 * request left that work out while the HTTP phase's counted it. Now each measured phase starts
 * with the report caught up with every answer given ({@link #drain}) and ends when it is again:
 * CPU per request counts the work the phase's requests caused ({@code *_drained}), and the bound
 * compares like with like: {@code saturation_vs_bound = (a + f) / h}, with {@code a} and {@code h}
 * the in-process and HTTP CPU per request, both drained ({@code bound} is the rate HTTP would reach
 * at its own CPU use if a request cost {@code a + f}). The rates over the phases alone and the
 * earlier bound ({@code bound_phase_rates}) are still written.
 */
public final class RerankBenchmark {

  /** Settings. */
  /** Settings; {@code maxWarmUpRounds} bounds the warm-up (see {@link #warmUp}). */
  public record Options(int candidates, int seconds, int threads, int users, long seed,
      int maxWarmUpRounds, List<String> serviceArguments) {
    public Options {
      serviceArguments = List.copyOf(serviceArguments);
      if (maxWarmUpRounds < 1) {
        throw new IllegalArgumentException("maxWarmUpRounds must be ≥ 1");
      }
      if (candidates < 1 || seconds < 1 || threads < 1 || users < 1) {
        throw new IllegalArgumentException("candidates, seconds, threads and users must be ≥ 1");
      }
    }
  }

  static final int ITEMS = BenchModels.ITEMS;
  static final String RERANK_PATH = "/v1/rerank";
  static final String PROBE_PATH = "/v1/transport-probe";

  private final Options options;
  private final PrintStream log;
  private final ObjectMapper json = JsonMapper.builder().build();
  /** Per experiment, the rerank answers given (HTTP 200 or in-process return), warm-up included. */
  private final Map<String, AtomicLong> answered = new ConcurrentHashMap<>();

  public RerankBenchmark(Options options, PrintStream log) {
    this.options = options;
    this.log = log;
  }

  /**
   * Only the freshness phase ({@link #freshness}), at a rerank load given in requests a second
   * instead of half the measured saturation rate: the quick way to study the freshness tail.
   */
  public Map<String, Object> freshnessOnly(double loadRps) throws Exception {
    if (!(loadRps > 0)) {
      throw new IllegalArgumentException("loadRps must be > 0");
    }
    Path work = Files.createTempDirectory("reranker-bench-freshness");
    try {
      return freshnessOnlyIn(loadRps, work);
    } finally {
      BenchFiles.deleteTree(work);
    }
  }

  private Map<String, Object> freshnessOnlyIn(double loadRps, Path work) throws Exception {
    List<String> items = BenchModels.save(work, options.seed(), "benchmark (random weights)");
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("benchmark", "rerank-freshness");
    Map<String, Object> config = new LinkedHashMap<>();
    config.put("candidates", options.candidates());
    config.put("seconds", options.seconds());
    config.put("users", options.users());
    config.put("rerank_load_rps", loadRps);
    config.put("service_arguments", options.serviceArguments());
    doc.put("config", config);
    doc.put("machine", Machine.describe());
    // a fresh JVM: the JIT compiles the service's paths during the first half minute of load,
    // which the full run has behind it when it reaches its freshness phase
    doc.put("freshness", freshnessRun(work, items, loadRps, FRESHNESS_ONLY_WARM_UP_SECONDS));
    return doc;
  }

  public Map<String, Object> run() throws Exception {
    Path work = Files.createTempDirectory("reranker-bench-rerank");
    try {
      return runIn(work);
    } finally {
      BenchFiles.deleteTree(work);
    }
  }

  private Map<String, Object> runIn(Path work) throws Exception {
    List<String> items = BenchModels.save(work, options.seed(), "benchmark (random weights)");
    List<String> args = serviceArguments(work, "main");
    Map<String, Object> doc = new LinkedHashMap<>();
    ConfigurableApplicationContext app = RerankerApplication.run(args.toArray(String[]::new));
    // attached once the service has started: Spring Boot's logging system resets Logback's
    // appenders while it starts. Sequence errors: the broker's exception and the client's retry
    // warning (Kafka 4.4's client names the error code)
    LogCounter sequenceErrors = LogCounter.attach("OutOfOrderSequenceException",
        "OUT_OF_ORDER_SEQUENCE_NUMBER");
    LogCounter concurrentTransactions = LogCounter.attach("CONCURRENT_TRANSACTIONS");
    try {
      int port = Integer.parseInt(app.getEnvironment().getProperty("local.server.port"));
      loadUsers(app, items);
      ExperimentRegistry registry = app.getBean(ExperimentRegistry.class);
      RerankService service = app.getBean(RerankService.class);
      Map<ArmChoice, List<RerankApi.RerankRequest>> requests = new LinkedHashMap<>();
      for (ArmChoice arm : List.of(ArmChoice.PERFORMER, ArmChoice.SOFTMAX)) {
        String experiment = "bench-" + arm.wireName();
        registry.put(experiment, Map.of(arm, 1.0), false, 10, null);
        requests.put(arm, requests(items, experiment));
      }
      warmUp(port, service, requests);
      Phase probe = load(http(port, PROBE_PATH, requests.get(ArmChoice.PERFORMER)), app);
      log.printf("transport probe HTTP %,.0f req/s (p50 %.2f ms, %.0f µs CPU each)%n",
          probe.rps(), probe.percentile(50), probe.cpuMicrosPerRequest());
      Map<String, Object> byArm = new LinkedHashMap<>();
      for (ArmChoice arm : requests.keySet()) {
        Phase http = load(http(port, RERANK_PATH, requests.get(arm)), app);
        Phase local = load(inProcess(service, requests.get(arm)), app);
        double floorUs = floorProbeMicros(app, requests.get(arm), arm);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("rerank_rps", round(http.rps()));
        m.put("saturation_rps", round(http.rps()));
        m.put("p50_ms", round(http.percentile(50)));
        m.put("p99_ms", round(http.percentile(99)));
        m.put("inprocess_rps", round(local.rps()));
        m.put("inprocess_p50_ms", round(local.percentile(50)));
        m.put("http_over_inprocess", round(http.rps() / local.rps()));
        m.put("http_vs_inprocess", round(http.rps() / local.rps()));
        m.put("http_cpu_us_per_request", round(http.cpuMicrosPerRequest()));
        m.put("inprocess_cpu_us_per_request", round(local.cpuMicrosPerRequest()));
        m.put("errors", http.errors());
        m.put("http_cpu_us_per_request_drained", round(http.drainedCpuMicrosPerRequest()));
        m.put("inprocess_cpu_us_per_request_drained",
            round(local.drainedCpuMicrosPerRequest()));
        m.put("http_drain_seconds", round(http.drainSeconds()));
        m.put("inprocess_drain_seconds", round(local.drainSeconds()));
        m.put("http_drain_caught_up", http.caughtUp());
        m.put("inprocess_drain_caught_up", local.caughtUp());
        double a = local.cpuMicrosPerRequest();
        double ratioBound = a / (a + probe.cpuMicrosPerRequest());
        m.put("http_ratio_bound", round(ratioBound));
        m.put("bound_phase_rates", round(local.rps() * ratioBound));
        double aDrained = local.drainedCpuMicrosPerRequest();
        double hDrained = http.drainedCpuMicrosPerRequest();
        double saturationVsBound = (aDrained + probe.drainedCpuMicrosPerRequest()) / hDrained;
        m.put("bound", round(http.rps() / saturationVsBound));
        m.put("saturation_vs_bound", round(saturationVsBound));
        m.put("inprocess_floor_us", round(floorUs));
        m.put("inprocess_floor_fraction", round(floorUs / a));
        Map<String, Object> open = new LinkedHashMap<>();
        for (int percent : new int[] {25, 50, 75}) {
          double rate = http.rps() * percent / 100.0;
          drain(app); // a backlog of joins left by the phase before would run inside this one
          Map<String, Object> o = openLoop(port, requests.get(arm), rate);
          open.put(percent + "pct", o);
          log.printf("%-9s open loop at %d%% of saturation (%,.0f req/s): p50 %.2f ms, p99 %.2f "
              + "ms, p99.9 %.2f ms%n", arm.wireName(), percent, rate, o.get("p50_ms"),
              o.get("p99_ms"), o.get("p999_ms"));
        }
        m.put("open_loop", open);
        m.put("p99_ms_at_50pct", ((Map<?, ?>) open.get("50pct")).get("p99_ms"));
        Map<String, Object> targets = new LinkedHashMap<>();
        targets.put("p99_ms_at_50pct <= 5", (Double) m.get("p99_ms_at_50pct") <= 5);
        targets.put("saturation_rps >= 0.8 x bound", saturationVsBound >= 0.8);
        targets.put("inprocess cpu <= 3 x floor", a <= 3 * floorUs);
        m.put("targets", targets);
        byArm.put(arm.wireName(), m);
        log.printf("%-9s HTTP %,.0f req/s (p50 %.2f ms, p99 %.2f ms, %.0f µs CPU each), "
            + "in-process %,.0f req/s (%.0f µs CPU each): %.2f%n", arm.wireName(), http.rps(),
            http.percentile(50), http.percentile(99), http.cpuMicrosPerRequest(), local.rps(),
            local.cpuMicrosPerRequest(), http.rps() / local.rps());
      }
      Map<String, Object> accounting = exposureAccounting(app, sequenceErrors,
          concurrentTransactions);
      @SuppressWarnings("unchecked")
      Map<String, Object> performer = (Map<String, Object>) byArm.get("performer");
      doc.put("benchmark", "rerank");
      Map<String, Object> config = new LinkedHashMap<>();
      config.put("candidates", options.candidates());
      config.put("seconds_per_phase", options.seconds());
      config.put("client_threads", options.threads());
      config.put("max_warm_up_rounds", options.maxWarmUpRounds());
      config.put("users", options.users());
      config.put("items", ITEMS);
      config.put("model", "d=64, 2 layers, 2 heads, m=64 (random weights)");
      config.put("service_arguments", options.serviceArguments());
      doc.put("config", config);
      doc.put("machine", Machine.describe());
      doc.put("rerank_rps", performer.get("rerank_rps"));
      doc.put("p50_ms", performer.get("p50_ms"));
      doc.put("p99_ms", performer.get("p99_ms"));
      doc.put("inprocess_rps", performer.get("inprocess_rps"));
      doc.put("by_arm", byArm);
      Map<String, Object> transport = new LinkedHashMap<>();
      transport.put("path", PROBE_PATH);
      transport.put("rps", round(probe.rps()));
      transport.put("p50_ms", round(probe.percentile(50)));
      transport.put("p99_ms", round(probe.percentile(99)));
      transport.put("cpu_us_per_request", round(probe.cpuMicrosPerRequest()));
      transport.put("errors", probe.errors());
      doc.put("transport_probe", transport);
      doc.put("exposure_accounting", accounting);
      boolean met = byArm.values().stream().allMatch(v -> ((Map<?, ?>) ((Map<?, ?>) v)
          .get("targets")).values().stream().allMatch(Boolean.TRUE::equals));
      doc.put("targets_met", met);
    } finally {
      app.close();
      sequenceErrors.detach();
      concurrentTransactions.detach();
    }
    @SuppressWarnings("unchecked")
    double performerSaturation = (Double) ((Map<String, Object>) ((Map<String, Object>)
        doc.get("by_arm")).get("performer")).get("saturation_rps");
    Map<String, Object> freshness = freshnessRun(work, items,
        performerSaturation * FRESHNESS_LOAD_SHARE, FRESHNESS_WARM_UP_SECONDS);
    doc.put("freshness", freshness);
    doc.put("freshness_ms_p50", freshness.get("p50_ms"));
    doc.put("freshness_ms_p99", freshness.get("p99_ms"));
    boolean freshEnough = freshness.get("answered").equals((long) (Integer) freshness
        .get("probes")) && (Double) freshness.get("p99_ms") <= 100;
    doc.put("freshness_target_met", freshEnough);
    doc.put("targets_met", freshEnough && (Boolean) doc.get("targets_met"));
    return doc;
  }

  /**
   * The freshness phase on a service of its own, started after the measured one has closed: the
   * saturation phases leave hundreds of thousands of exposures for the stream thread to join with
   * later events (the experiment's outcome join shares that thread with the ingestion), and a
   * backlog there delays every event behind it. Here the stream starts caught up: the same users
   * are loaded, the rerank load warms the service for {@link #FRESHNESS_WARM_UP_SECONDS} s,
   * then the measured phase runs.
   */
  private Map<String, Object> freshnessRun(Path work, List<String> items, double loadRps,
      int warmUpSeconds) throws Exception {
    ConfigurableApplicationContext app = RerankerApplication.run(serviceArguments(work,
        "freshness").toArray(String[]::new));
    try {
      int port = Integer.parseInt(app.getEnvironment().getProperty("local.server.port"));
      loadUsers(app, items);
      app.getBean(ExperimentRegistry.class).put(FRESHNESS_EXPERIMENT,
          Map.of(ArmChoice.PERFORMER, 1.0), false, 10, null);
      List<RerankApi.RerankRequest> load = requests(items, FRESHNESS_EXPERIMENT);
      return freshness(app, port, items, load, loadRps, warmUpSeconds);
    } finally {
      app.close();
    }
  }

  /** The service's arguments: the bench's defaults, then {@code serviceArguments} over them. */
  private List<String> serviceArguments(Path work, String instance) {
    List<String> args = new ArrayList<>(List.of(
        "--server.port=0", "--reranker.kafka.embedded-data-dir=" + work.resolve("kafka-" + instance),
        "--spring.kafka.streams.state-dir=" + work.resolve("streams-" + instance),
        "--reranker.models.performer=" + work.resolve("models/performer"),
        "--reranker.models.softmax=" + work.resolve("models/softmax"),
        "--reranker.security.admin-api-key=bench",
        "--reranker.serving.max-concurrent-requests=" + Math.max(64, 4 * options.threads()),
        "--server.tomcat.max-keep-alive-requests=-1", "--logging.level.root=WARN",
        "--reranker.serving.transport-probe=true"));
    for (String extra : options.serviceArguments()) { // replaces a default of the same name
      String name = extra.contains("=") ? extra.substring(0, extra.indexOf('=') + 1) : extra;
      args.removeIf(a -> a.startsWith(name));
      args.add(extra);
    }
    return args;
  }

  /** Freshness's rerank load, as a share of the performer arm's measured saturation rate. */
  static final double FRESHNESS_LOAD_SHARE = 0.5;
  /** Freshness's background ingest: events a second for the loaded users. */
  static final int FRESHNESS_INGEST_PER_SECOND = 500;
  /** Freshness probes a second, each a new event for one of {@link #FRESHNESS_PROBE_USERS}. */
  static final int FRESHNESS_PROBES_PER_SECOND = 20;
  static final int FRESHNESS_PROBE_USERS = 40;
  static final int FRESHNESS_WARM_UP_SECONDS = 5;
  /** {@link #freshnessOnly}'s warm-up: its JVM has compiled nothing yet. */
  static final int FRESHNESS_ONLY_WARM_UP_SECONDS = 40;
  static final String FRESHNESS_EXPERIMENT = "bench-freshness";
  /** How often a probe asks again whether its event is in the engine's state. */
  static final long FRESHNESS_POLL_NANOS = 2_000_000L;
  /** A probe not seen by then is given up (and counted at this value in the percentiles). */
  static final long FRESHNESS_PROBE_TIMEOUT_NANOS = 10_000_000_000L;
  /** How often a probe asks over HTTP while the state does not count its event yet. */
  static final long FRESHNESS_HTTP_WHILE_WAITING_NANOS = 100_000_000L;

  /**
   * Produce to the first rerank answer that includes the event, under rerank and ingest load
   * together: the performer arm's open loop at {@link #FRESHNESS_LOAD_SHARE} of its saturation
   * rate and a background producer of {@link #FRESHNESS_INGEST_PER_SECOND} events a second for the
   * loaded users (both through a warm-up of {@code warmUpSeconds}, then for {@code seconds});
   * meanwhile probe events (linger 0, acks all) go to their own users, {@link
   * #FRESHNESS_PROBES_PER_SECOND} a second on a fixed schedule (a probe still unanswered does not
   * hold the next back). After each send the probe
   * reads the engine's state every {@link #FRESHNESS_POLL_NANOS} (in-process, through {@code
   * StateReader}, as a request reads it) and POSTs {@code /v1/rerank} for the user once the state
   * counts the event (every {@link #FRESHNESS_HTTP_WHILE_WAITING_NANOS} before that), until an
   * answer's {@code statePosition} counts it. The latency runs from just before the send to the
   * end of that answer. Each probe event's legs: the broker's acknowledgement, the stream thread
   * applying it (the JFR event {@code dev.reranker.ingest.EventApplied}), the state counting it,
   * the answer. The service runs with the settings it was given (by default a 50 ms fold flush
   * and a 100 ms commit interval).
   */
  private Map<String, Object> freshness(ConfigurableApplicationContext app, int port,
      List<String> items, List<RerankApi.RerankRequest> loadRequests, double loadRps,
      int warmUpSeconds) throws Exception {
    String servers = bootstrapServers(app);
    IngestMetrics metrics = app.getBean(IngestMetrics.class);
    java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic
        .AtomicBoolean();
    long[] background = new long[1];
    Map<String, Object> producerConfig = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers,
        ProducerConfig.LINGER_MS_CONFIG, 0, ProducerConfig.ACKS_CONFIG, "all");
    Thread ingest = new Thread(() -> {
      SplittableRandom r = new SplittableRandom(options.seed() + 99);
      try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(producerConfig,
          new StringSerializer(), new ByteArraySerializer())) {
        int perTick = Math.max(1, FRESHNESS_INGEST_PER_SECOND / 100);
        long next = System.nanoTime();
        while (!stop.get()) {
          for (int i = 0; i < perTick; i++) { // every 10 ms
            String user = "user-" + r.nextInt(options.users());
            Interaction e = new Interaction(user, items.get(r.nextInt(items.size())),
                System.currentTimeMillis(), EventType.VIEW, "fresh-load-" + background[0]++);
            producer.send(new ProducerRecord<>(dev.reranker.data.Topics.INTERACTIONS, user,
                InteractionJson.toJson(e).getBytes(StandardCharsets.UTF_8)));
          }
          next += 10_000_000L;
          java.util.concurrent.locks.LockSupport.parkNanos(next - System.nanoTime());
        }
      }
    }, "bench-freshness-ingest");
    java.util.concurrent.CompletableFuture<Map<String, Object>> rerankLoad =
        new java.util.concurrent.CompletableFuture<>();
    Thread rerank = new Thread(() -> {
      try {
        rerankLoad.complete(openLoop(port, loadRequests, loadRps));
      } catch (Throwable t) {
        rerankLoad.completeExceptionally(t);
      }
    }, "bench-freshness-rerank");
    // the stream thread's own time for each probe event (dev.reranker.ingest.EventApplied, a JFR
    // event): splits send → state into the Streams consumer's fetch and buffering up to the
    // processor, and the processor → the state read
    String run = Long.toString(System.nanoTime(), 36);
    Map<String, java.time.Instant> appliedAt = new java.util.concurrent.ConcurrentHashMap<>();
    Map<String, String> appliedOffset = new java.util.concurrent.ConcurrentHashMap<>();
    String probeIds = "fresh-" + run + "-";
    jdk.jfr.consumer.RecordingStream recording = new jdk.jfr.consumer.RecordingStream();
    recording.enable(dev.reranker.ingest.EventAppliedEvent.NAME);
    recording.onEvent(dev.reranker.ingest.EventAppliedEvent.NAME, ev -> {
      String id = ev.getString("eventId");
      if (id.startsWith(probeIds)) {
        appliedAt.put(id, ev.getStartTime());
        appliedOffset.put(id, ev.getInt("partition") + "@" + ev.getLong("offset"));
      }
    });
    // started before the warm-up: JFR's start (its first recording in this JVM) is not measured
    recording.startAsync();
    // the background ingest runs through the warm-up too: without it every exposure of the
    // warm-up stayed pending, and the first events of the measured phase resolved them all at
    // once (40 s at 1,500 req/s left 60,000: the join took the stream thread for 50 s)
    ingest.start();
    openLoop(port, loadRequests, loadRps, warmUpSeconds);
    // the measured phase starts with the warm-up's exposures joined, as every closed-loop phase
    // does: in a fresh JVM the join falls behind while the compiler warms it, and that backlog
    // (on the thread that also ingests) is the warm-up's, not the load's. A join that cannot keep
    // up with the load still builds its own backlog within the phase, and the probes see it.
    long drainStart = System.nanoTime();
    long warmUpGiven = answered.getOrDefault(FRESHNESS_EXPERIMENT, new AtomicLong()).get();
    long warmUpJoined = awaitReport(app, FRESHNESS_EXPERIMENT, ArmChoice.PERFORMER,
        drainStart + DRAIN_TIMEOUT_NANOS, DRAIN_POLL_MILLIS);
    double warmUpDrainSeconds = (System.nanoTime() - drainStart) / 1e9;
    long applied0 = metrics.appliedCount();
    rerank.start();
    org.HdrHistogram.Histogram latencies = new org.HdrHistogram.Histogram(60_000_000L, 3);
    // each probe's legs: send → the broker's acknowledgement, send → the engine's state (read
    // in-process, as a request reads it) counts the event, that → the HTTP answer counts it
    org.HdrHistogram.Histogram acked = new org.HdrHistogram.Histogram(60_000_000L, 3);
    org.HdrHistogram.Histogram inState = new org.HdrHistogram.Histogram(60_000_000L, 3);
    org.HdrHistogram.Histogram stateToAnswer = new org.HdrHistogram.Histogram(60_000_000L, 3);
    org.HdrHistogram.Histogram applied = new org.HdrHistogram.Histogram(60_000_000L, 3);
    List<long[]> slowest = new ArrayList<>(); // {total, ack, state, probe index} µs of each probe
    Map<String, Object> threadTime = new LinkedHashMap<>();
    org.apache.kafka.streams.KafkaStreams streams = app.getBean(
        org.springframework.kafka.config.StreamsBuilderFactoryBean.class).getKafkaStreams();
    dev.reranker.state.StateReader stateReader = app.getBean(dev.reranker.state.StateReader.class);
    int probes = Math.max(1, FRESHNESS_PROBES_PER_SECOND * options.seconds());
    java.time.Instant[] sentAt = new java.time.Instant[probes];
    long timedOut = 0;
    List<Integer> timedOutProbes = new ArrayList<>();
    long polls = 0;
    long pollErrors = 0;
    String experiment = loadRequests.get(0).experiment();
    AtomicLong counted = answered.computeIfAbsent(experiment, k -> new AtomicLong());
    java.util.regex.Pattern position = java.util.regex.Pattern.compile(
        "\"statePosition\"\\s*:\\s*(\\d+)");
    SplittableRandom r = new SplittableRandom(options.seed() + 7);
    LoopbackConnection connection = new LoopbackConnection(port);
    java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(producerConfig,
        new StringSerializer(), new ByteArraySerializer())) {
      long[] positions = new long[FRESHNESS_PROBE_USERS];
      byte[][] asks = new byte[FRESHNESS_PROBE_USERS][];
      for (int u = 0; u < asks.length; u++) {
        byte[] q = json.writeValueAsBytes(new RerankApi.RerankRequest("fresh-" + run + "-" + u,
            loadRequests.get(u % loadRequests.size()).candidates(), 10, experiment, null));
        byte[] head = ("POST " + RERANK_PATH + " HTTP/1.1\r\nHost: localhost:" + port
            + "\r\nContent-Type: application/json\r\nContent-Length: " + q.length + "\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII);
        asks[u] = Arrays.copyOf(head, head.length + q.length);
        System.arraycopy(q, 0, asks[u], head.length, q.length);
      }
      // Probes are sent on a fixed schedule whether or not the earlier ones have been answered
      // (as the load is: no coordinated omission). Until 2026-12-08 a probe waited for its answer
      // before the next was sent, so the first probes of a stall (10 s each until given up) took
      // up the whole loaded window and the other probes ran after the load had stopped: the
      // percentiles said "under load" and measured the drain.
      // Each round reads, per user with probes outstanding, the state for that user's oldest
      // probe only (a later event of the user cannot be counted before it), and pauses 2 ms per
      // such user, so a stall's pile of probes does not add reads (every read takes the stores'
      // locks the stream thread writes under) at a rate the load would not.
      List<java.util.ArrayDeque<long[]>> open = new ArrayList<>();
      for (int u = 0; u < FRESHNESS_PROBE_USERS; u++) {
        open.add(new java.util.ArrayDeque<>());
      }
      AtomicLong[] ackAt = new AtomicLong[probes];
      int sentCount = 0;
      int outstanding = 0;
      long period = 1_000_000_000L / FRESHNESS_PROBES_PER_SECOND;
      long next = System.nanoTime() + 200_000_000L; // the load first
      while (sentCount < probes || outstanding > 0) {
        while (sentCount < probes && System.nanoTime() >= next) {
          int i = sentCount++;
          next += period;
          int u = i % FRESHNESS_PROBE_USERS;
          String user = "fresh-" + run + "-" + u;
          long expected = ++positions[u];
          Interaction e = new Interaction(user, items.get(r.nextInt(items.size())),
              System.currentTimeMillis(), EventType.VIEW, "fresh-" + run + "-" + i);
          byte[] value = InteractionJson.toJson(e).getBytes(StandardCharsets.UTF_8);
          sentAt[i] = java.time.Instant.now();
          long sent = System.nanoTime();
          AtomicLong acked1 = new AtomicLong();
          ackAt[i] = acked1;
          producer.send(new ProducerRecord<>(dev.reranker.data.Topics.INTERACTIONS, user, value),
              (metadata, error) -> acked1.set(System.nanoTime()));
          // {probe index, expected position, sent, state seen at, last HTTP ask}
          open.get(u).add(new long[] {i, expected, sent, 0, 0});
          outstanding++;
        }
        int users = 0;
        for (int u = 0; u < open.size(); u++) {
          if (!open.get(u).isEmpty()) {
            users++;
          }
          long[] p;
          while ((p = open.get(u).peek()) != null) {
            int i = (int) p[0];
            String user = "fresh-" + run + "-" + u;
            if (p[3] == 0) {
              try {
                long expected = p[1];
                if (stateReader.read(user, dev.reranker.model.Arm.PERFORMER)
                    .map(v -> v.folded() >= expected).orElse(false)) {
                  p[3] = System.nanoTime();
                }
              } catch (RuntimeException ex) {
                // the stores are briefly unreadable: the HTTP ask below says so too
              }
            }
            // HTTP once the state counts the event (and every 100 ms meanwhile): every answer
            // is an exposure, which the experiment join resolves when the user's next event
            // comes, so a probe asking every 2 ms made 500 exposures a second for one user — a
            // load no client makes, which fed the join's work back into the tail measured
            long asked = System.nanoTime();
            long seen = -1;
            if (p[3] != 0 || asked - p[4] >= FRESHNESS_HTTP_WHILE_WAITING_NANOS) {
              p[4] = asked;
              body.reset();
              try {
                if (connection.closed) {
                  connection = new LoopbackConnection(port);
                }
                polls++;
                if (connection.exchange(asks[u], body) == 200) {
                  counted.incrementAndGet();
                  java.util.regex.Matcher m = position.matcher(
                      body.toString(StandardCharsets.UTF_8));
                  seen = m.find() ? Long.parseLong(m.group(1)) : -1;
                } else {
                  pollErrors++;
                }
              } catch (java.io.IOException ex) {
                pollErrors++;
                connection.close();
              }
            }
            long now = System.nanoTime();
            if (seen >= p[1]) {
              long sent = p[2];
              latencies.recordValue(Math.max(1, (now - sent) / 1000));
              long ack = ackAt[i].get() == 0 ? now : ackAt[i].get();
              long state = p[3] == 0 ? now : p[3];
              acked.recordValue(Math.max(1, (ack - sent) / 1000));
              inState.recordValue(Math.max(1, (state - sent) / 1000));
              stateToAnswer.recordValue(Math.max(1, (now - state) / 1000));
              slowest.add(new long[] {(now - sent) / 1000, (ack - sent) / 1000,
                  (state - sent) / 1000, i});
              open.get(u).poll();
              outstanding--;
              continue; // the user's next probe may be counted by the same answer
            }
            if (now - p[2] > FRESHNESS_PROBE_TIMEOUT_NANOS) {
              timedOut++;
              timedOutProbes.add(i);
              latencies.recordValue(FRESHNESS_PROBE_TIMEOUT_NANOS / 1000); // at least this
              open.get(u).poll();
              outstanding--;
              continue;
            }
            break;
          }
        }
        long pause = FRESHNESS_POLL_NANOS * Math.max(1, users);
        if (sentCount < probes) {
          pause = Math.min(pause, Math.max(0, next - System.nanoTime()));
        }
        java.util.concurrent.locks.LockSupport.parkNanos(pause);
      }
    } finally {
      connection.close();
      rerank.join();
      threadTime.putAll(streamThreadMetrics(streams));
      stop.set(true);
      ingest.join();
      // JFR hands events to the stream about once a second
      long wait = System.nanoTime() + 5_000_000_000L;
      while (appliedAt.size() < latencies.getTotalCount() - timedOut
          && System.nanoTime() < wait) {
        Thread.sleep(100);
      }
      recording.close();
    }
    long[] appliedMicros = new long[sentAt.length];
    Arrays.fill(appliedMicros, -1);
    for (int i = 0; i < sentAt.length; i++) {
      java.time.Instant at = appliedAt.get(probeIds + i);
      if (sentAt[i] != null && at != null) {
        appliedMicros[i] = Math.max(1, java.time.Duration.between(sentAt[i], at).toNanos() / 1000);
        applied.recordValue(appliedMicros[i]);
      }
    }
    Map<String, Object> load = rerankLoad.get();
    long appliedMeanwhile = metrics.appliedCount() - applied0;
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("probes", probes);
    // a probe not seen in time counts in the percentiles at the timeout: a lower bound
    out.put("answered", latencies.getTotalCount() - timedOut);
    out.put("timed_out", timedOut);
    out.put("polls", polls);
    out.put("poll_errors", pollErrors);
    out.put("p50_ms", round(latencies.getValueAtPercentile(50) / 1e3));
    out.put("p99_ms", round(latencies.getValueAtPercentile(99) / 1e3));
    out.put("max_ms", round(latencies.getMaxValue() / 1e3));
    out.put("poll_interval_ms", FRESHNESS_POLL_NANOS / 1e6);
    out.put("warm_up_drain_seconds", round(warmUpDrainSeconds));
    out.put("warm_up_drain_caught_up", warmUpJoined >= warmUpGiven);
    Map<String, Object> legs = new LinkedHashMap<>();
    legs.put("acked_ms_p50", round(acked.getValueAtPercentile(50) / 1e3));
    legs.put("acked_ms_p99", round(acked.getValueAtPercentile(99) / 1e3));
    legs.put("applied_ms_p50", round(applied.getValueAtPercentile(50) / 1e3));
    legs.put("applied_ms_p99", round(applied.getValueAtPercentile(99) / 1e3));
    legs.put("applied_recorded", applied.getTotalCount());
    legs.put("in_state_ms_p50", round(inState.getValueAtPercentile(50) / 1e3));
    legs.put("in_state_ms_p99", round(inState.getValueAtPercentile(99) / 1e3));
    legs.put("state_to_answer_ms_p50", round(stateToAnswer.getValueAtPercentile(50) / 1e3));
    legs.put("state_to_answer_ms_p99", round(stateToAnswer.getValueAtPercentile(99) / 1e3));
    slowest.sort((a, b) -> Long.compare(b[0], a[0]));
    List<Map<String, Object>> slow = new ArrayList<>();
    for (long[] p : slowest.subList(0, Math.min(5, slowest.size()))) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("total_ms", round(p[0] / 1e3));
      m.put("acked_ms", round(p[1] / 1e3));
      m.put("applied_ms", appliedMicros[(int) p[3]] < 0 ? null
          : round(appliedMicros[(int) p[3]] / 1e3));
      m.put("in_state_ms", round(p[2] / 1e3));
      m.put("partition_offset", appliedOffset.get(probeIds + p[3]));
      slow.add(m);
    }
    legs.put("slowest", slow);
    List<Map<String, Object>> late = new ArrayList<>();
    for (int i : timedOutProbes) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("sent", sentAt[i].toString());
      m.put("applied_ms", appliedMicros[i] < 0 ? null : round(appliedMicros[i] / 1e3));
      m.put("partition_offset", appliedOffset.get(probeIds + i));
      late.add(m);
    }
    legs.put("timed_out", late);
    if (!late.isEmpty()) {
      log.println("freshness probes not seen within 10 s (sent, applied after ms, offset): "
          + late);
    }
    out.put("legs", legs);
    out.put("stream_thread", threadTime);
    out.put("rerank_load", load);
    out.put("ingest_events_per_s_asked", FRESHNESS_INGEST_PER_SECOND);
    out.put("ingest_events_produced", background[0]);
    out.put("events_applied_meanwhile", appliedMeanwhile);
    log.printf("freshness under load (rerank %,.0f req/s asked, %,.0f answered, p99 %.2f ms; "
        + "ingest %d events/s asked, %,d produced, %,d applied incl. probes): produce to answer "
        + "p50 %.1f ms, p99 %.1f ms, max %.1f ms, %d of %d timed out (the warm-up's joins "
        + "drained in %.1f s%s)%n", loadRps,
        load.get("achieved_rps"), load.get("p99_ms"), FRESHNESS_INGEST_PER_SECOND, background[0],
        appliedMeanwhile, out.get("p50_ms"), out.get("p99_ms"), out.get("max_ms"), timedOut,
        probes, warmUpDrainSeconds, warmUpJoined >= warmUpGiven ? "" : ", not all in time");
    log.printf("freshness legs, p50 / p99 ms: send to broker ack %.1f / %.1f, send to applied by "
        + "the stream thread %.1f / %.1f, send to the engine's state %.1f / %.1f, state to HTTP "
        + "answer %.1f / %.1f; slowest probes: %s; stream thread: %s%n", legs.get("acked_ms_p50"),
        legs.get("acked_ms_p99"), legs.get("applied_ms_p50"), legs.get("applied_ms_p99"),
        legs.get("in_state_ms_p50"), legs.get("in_state_ms_p99"),
        legs.get("state_to_answer_ms_p50"), legs.get("state_to_answer_ms_p99"), slow,
        threadTime);
    return out;
  }

  /**
   * How the stream thread spent its time lately (Kafka Streams' own thread metrics, averaged over
   * their sample windows, about the last minute): the shares of wall time processing, committing,
   * polling and punctuating, records processed a second, commit latency. A thread whose shares
   * add up to nearly 1 has no slack: a burst then queues for as long as the slack takes to drain
   * it.
   */
  static Map<String, Object> streamThreadMetrics(org.apache.kafka.streams.KafkaStreams streams) {
    Map<String, Object> out = new java.util.TreeMap<>();
    if (streams == null) {
      return out;
    }
    List<String> names = List.of("process-ratio", "commit-ratio", "poll-ratio",
        "punctuate-ratio", "process-rate", "commit-latency-avg", "commit-latency-max");
    for (var e : streams.metrics().entrySet()) {
      var n = e.getKey();
      if (n.group().equals("stream-thread-metrics") && names.contains(n.name())
          && e.getValue().metricValue() instanceof Double d && !d.isNaN()) {
        String thread = n.tags().getOrDefault("thread-id", "");
        String key = n.name().replace('-', '_') + thread.substring(thread.lastIndexOf('-') + 1);
        out.put(key, round(d));
      }
    }
    return out;
  }

  private static String bootstrapServers(ConfigurableApplicationContext app) {
    return app.getBean(org.springframework.kafka.core.KafkaAdmin.class)
        .getConfigurationProperties().get("bootstrap.servers").toString()
        .replace("[", "").replace("]", "");
  }

  /**
   * Whether every answer's exposure reached the durable report: per arm, the answers given
   * against the exposures the report counts once the publisher has drained (waiting up to 60 s
   * for the join to catch up), with the exposures the publisher could not write and the
   * {@code OutOfOrderSequenceException} log lines seen during the run (the broker's and the
   * clients', which share this JVM). A transactional producer's sequence error aborts its
   * transaction, and exactly-once processing replays the aborted input: an exposure lost there
   * would show here as answered > in report.
   */
  private Map<String, Object> exposureAccounting(ConfigurableApplicationContext app,
      LogCounter sequenceErrors, LogCounter concurrentTransactions) {
    ExposurePublisher publisher = app.getBean(ExposurePublisher.class);
    Map<ArmChoice, Long> reported = awaitReport(app, 60_000_000_000L);
    Map<String, Object> out = new LinkedHashMap<>();
    long missing = 0;
    for (ArmChoice arm : List.of(ArmChoice.PERFORMER, ArmChoice.SOFTMAX)) {
      String experiment = "bench-" + arm.wireName();
      long given = answered.getOrDefault(experiment, new AtomicLong()).get();
      long inReport = reported.get(arm);
      missing += Math.max(0, given - inReport);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("answered", given);
      m.put("in_report", inReport);
      out.put(arm.wireName(), m);
    }
    out.put("missing", missing);
    out.put("unpublished", publisher.unpublished());
    out.put("out_of_order_sequence_log_lines", sequenceErrors.count());
    out.put("concurrent_transactions_log_lines", concurrentTransactions.count());
    log.printf("exposures: %s missing from the report, %d unpublished; log lines: %d "
        + "out-of-order sequence, %d concurrent transactions%n", missing,
        publisher.unpublished(), sequenceErrors.count(), concurrentTransactions.count());
    return out;
  }

  /**
   * Per arm, the exposures the durable report counts, once it counts every answer given so far
   * or {@code timeoutNanos} have passed. The report is the stream thread's work, shared with the
   * ingestion: the saturation phases leave it a backlog of exposures to aggregate.
   */
  private Map<ArmChoice, Long> awaitReport(ConfigurableApplicationContext app,
      long timeoutNanos) {
    return awaitReport(app, timeoutNanos, 200);
  }

  private Map<ArmChoice, Long> awaitReport(ConfigurableApplicationContext app,
      long timeoutNanos, long pollMillis) {
    long deadline = System.nanoTime() + timeoutNanos;
    Map<ArmChoice, Long> out = new LinkedHashMap<>();
    for (ArmChoice arm : List.of(ArmChoice.PERFORMER, ArmChoice.SOFTMAX)) {
      out.put(arm, awaitReport(app, "bench-" + arm.wireName(), arm, deadline, pollMillis));
    }
    return out;
  }

  /**
   * The exposures one experiment's report counts for one arm, once it counts every answer given
   * so far in that experiment or the deadline ({@link System#nanoTime}) has passed.
   */
  private long awaitReport(ConfigurableApplicationContext app, String experiment, ArmChoice arm,
      long deadline, long pollMillis) {
    ExperimentAggregates aggregates = app.getBean(ExperimentAggregates.class);
    long given = answered.getOrDefault(experiment, new AtomicLong()).get();
    long inReport = 0;
    while (true) {
      try {
        var totals = aggregates.assemble(experiment).totals().get(arm);
        inReport = totals == null ? 0 : totals.exposures();
      } catch (RuntimeException e) {
        // a store between restores answers on a later try
      }
      if (inReport >= given || System.nanoTime() > deadline) {
        return inReport;
      }
      sleep(pollMillis);
    }
  }

  /** Counts log events (message or exception chain) that mention any of some texts. */
  static final class LogCounter extends ch.qos.logback.core.AppenderBase<
      ch.qos.logback.classic.spi.ILoggingEvent> {
    private final List<String> texts;
    private final AtomicLong count = new AtomicLong();

    private LogCounter(List<String> texts) {
      this.texts = texts;
    }

    static LogCounter attach(String... texts) {
      LogCounter c = new LogCounter(List.of(texts));
      if (org.slf4j.LoggerFactory.getILoggerFactory()
          instanceof ch.qos.logback.classic.LoggerContext context) {
        c.setContext(context);
        c.setName("bench-log-counter");
        c.start();
        context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(c);
      }
      return c;
    }

    void detach() {
      if (getContext() instanceof ch.qos.logback.classic.LoggerContext context) {
        context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(this);
      }
      stop();
    }

    long count() {
      return count.get();
    }

    @Override
    protected void append(ch.qos.logback.classic.spi.ILoggingEvent e) {
      boolean hit = mentions(e.getFormattedMessage());
      for (var t = e.getThrowableProxy(); !hit && t != null; t = t.getCause()) {
        hit = mentions(t.getClassName() + " " + t.getMessage());
      }
      if (hit) {
        count.incrementAndGet();
      }
    }

    private boolean mentions(String s) {
      return s != null && texts.stream().anyMatch(s::contains);
    }
  }

  private void loadUsers(ConfigurableApplicationContext app, List<String> items) {
    String servers = bootstrapServers(app);
    SplittableRandom r = new SplittableRandom(options.seed());
    int perUser = 50;
    long t0 = System.currentTimeMillis() - 86_400_000L;
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers, ProducerConfig.LINGER_MS_CONFIG, 5),
        new StringSerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < perUser; i++) {
        for (int u = 0; u < options.users(); u++) {
          Interaction e = new Interaction("user-" + u, items.get(r.nextInt(items.size())),
              t0 + (long) i * 60_000 + u, EventType.VIEW, "b-" + u + "-" + i);
          producer.send(new ProducerRecord<>(dev.reranker.data.Topics.INTERACTIONS, e.userId(),
              InteractionJson.toJson(e).getBytes(StandardCharsets.UTF_8)));
        }
      }
    }
    IngestMetrics metrics = app.getBean(IngestMetrics.class);
    long expected = (long) perUser * options.users();
    long deadline = System.currentTimeMillis() + 300_000;
    while (metrics.appliedCount() < expected && System.currentTimeMillis() < deadline) {
      sleep(50);
    }
    log.printf("loaded %,d users with %d events each%n", options.users(), perUser);
  }

  private List<RerankApi.RerankRequest> requests(List<String> items, String experiment) {
    SplittableRandom r = new SplittableRandom(options.seed() + 7);
    List<RerankApi.RerankRequest> out = new ArrayList<>();
    for (int u = 0; u < options.users(); u++) {
      List<String> candidates = new ArrayList<>(items.subList(0, items.size()));
      for (int i = 0; i < options.candidates(); i++) { // a random subset, partial shuffle
        int j = i + r.nextInt(candidates.size() - i);
        String tmp = candidates.get(i);
        candidates.set(i, candidates.get(j));
        candidates.set(j, tmp);
      }
      out.add(new RerankApi.RerankRequest("user-" + u, List.copyOf(candidates.subList(0,
          options.candidates())), 10, experiment, null));
    }
    return out;
  }

  /**
   * The in-process floor of one request, µs of this thread's CPU: what a rerank cannot avoid —
   * each candidate's id looked up and scored against a user vector (a dot product of the model's
   * width), the top k selected — without validation, assignment, state reads, exposure or
   * metrics. The same requests, the same model; median of 5 rounds.
   */
  static final int FLOOR_WARM_UP_ROUNDS = 100;
  static final long FLOOR_WARM_UP_NANOS = 2_000_000_000L;
  static final int FLOOR_TIMED_ROUNDS = 9;

  private double floorProbeMicros(ConfigurableApplicationContext app,
      List<RerankApi.RerankRequest> requests, ArmChoice arm) {
    dev.reranker.state.ActiveModel model = app.getBean(dev.reranker.state.ModelRegistry.class)
        .get(arm == ArmChoice.PERFORMER ? dev.reranker.model.Arm.PERFORMER
            : dev.reranker.model.Arm.SOFTMAX);
    dev.reranker.model.PlainWeights weights = model.plainWeights();
    float[] user = new float[model.trained().config().dim()];
    for (int j = 0; j < user.length; j++) {
      user[j] = (float) Math.sin(j + 1.0);
    }
    java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory
        .getThreadMXBean();
    double sink = 0;
    // warmed first: until 2026-12-08 six rounds of ≈ 10 ms each were all it ran, and the first
    // arm probed (the performer) got 26-45 µs against the second's 19 µs for the same scoring —
    // its rounds ran before C2 had compiled them. Rounds untimed for at least
    // FLOOR_WARM_UP_ROUNDS and FLOOR_WARM_UP_NANOS, then the median of the timed ones (all through
    // the one method, so the timed rounds run the code the warm-up compiled).
    int perRound = Math.max(200, 200_000 / options.candidates());
    long warmUntil = System.nanoTime() + FLOOR_WARM_UP_NANOS;
    for (int r = 0; r < FLOOR_WARM_UP_ROUNDS || System.nanoTime() < warmUntil; r++) {
      sink += floorRound(model, weights, user, requests, perRound);
    }
    double[] rounds = new double[FLOOR_TIMED_ROUNDS];
    for (int r = 0; r < rounds.length; r++) {
      long cpu0 = threads.getCurrentThreadCpuTime();
      sink += floorRound(model, weights, user, requests, perRound);
      rounds[r] = (threads.getCurrentThreadCpuTime() - cpu0) / 1e3 / perRound;
    }
    if (Double.isNaN(sink)) {
      throw new IllegalStateException("floor probe scored NaN");
    }
    return AttentionBenchmark.median(rounds);
  }

  /** {@code perRound} requests' lookups, scores and top k: what any answer must do. */
  private static double floorRound(dev.reranker.state.ActiveModel model,
      dev.reranker.model.PlainWeights weights, float[] user,
      List<RerankApi.RerankRequest> requests, int perRound) {
    double sink = 0;
    for (int i = 0; i < perRound; i++) {
      RerankApi.RerankRequest q = requests.get(i % requests.size());
      List<String> candidates = q.candidates();
      double[] scores = new double[candidates.size()];
      for (int c = 0; c < scores.length; c++) {
        int index = model.itemIndex(candidates.get(c));
        scores[c] = index >= 0 ? weights.score(user, index) : 0;
      }
      int[] best = dev.reranker.serving.TopK.select(scores, scores.length,
          Math.min(q.k() == null ? scores.length : q.k(), scores.length));
      sink += scores[best[0]];
    }
    return sink;
  }

  /**
   * Constant arrival rate, as wrk2 does: request i is due at start + i / rate, and its latency is
   * measured from that due time, not from when a connection was free to send it, so a stall
   * counts against every request it delayed (no coordinated omission). Workers (each with its
   * own keep-alive connection) take the next due request; there are enough of them that at the
   * rates asked for one is nearly always free. {@code seconds} at the rate; HdrHistogram, 3
   * significant digits.
   */
  private Map<String, Object> openLoop(int port, List<RerankApi.RerankRequest> requests,
      double rate) throws Exception {
    return openLoop(port, requests, rate, options.seconds());
  }

  private Map<String, Object> openLoop(int port, List<RerankApi.RerankRequest> requests,
      double rate, int seconds) throws Exception {
    Call call = http(port, RERANK_PATH, requests);
    int workers = Math.max(32, 8 * options.threads());
    long total = Math.max(1, Math.round(rate * seconds));
    double intervalNanos = 1e9 / rate;
    java.util.concurrent.atomic.AtomicLong next = new java.util.concurrent.atomic.AtomicLong();
    AtomicLong errors = new AtomicLong();
    List<org.HdrHistogram.Histogram> histograms = new ArrayList<>();
    long start = System.nanoTime() + 50_000_000L;
    CountDownLatch done = new CountDownLatch(workers);
    for (int w = 0; w < workers; w++) {
      org.HdrHistogram.Histogram h = new org.HdrHistogram.Histogram(60_000_000L, 3);
      histograms.add(h);
      Thread t = new Thread(() -> {
        try {
          for (long i = next.getAndIncrement(); i < total; i = next.getAndIncrement()) {
            long due = start + (long) (i * intervalNanos);
            long wait = due - System.nanoTime();
            if (wait > 0) {
              java.util.concurrent.locks.LockSupport.parkNanos(wait);
            }
            boolean ok;
            try {
              ok = call.call((int) (i % Integer.MAX_VALUE));
            } catch (Exception e) {
              ok = false;
            }
            if (ok) {
              h.recordValue(Math.max(1, (System.nanoTime() - due) / 1000));
            } else {
              errors.incrementAndGet();
            }
          }
        } finally {
          done.countDown();
        }
      }, "bench-open-loop-" + w);
      t.start();
    }
    done.await();
    double elapsed = (System.nanoTime() - start) / 1e9;
    call.close();
    org.HdrHistogram.Histogram all = new org.HdrHistogram.Histogram(60_000_000L, 3);
    histograms.forEach(all::add);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("target_rps", round(rate));
    out.put("achieved_rps", round(all.getTotalCount() / elapsed));
    out.put("requests", all.getTotalCount());
    out.put("errors", errors.get());
    out.put("p50_ms", round(all.getValueAtPercentile(50) / 1e3));
    out.put("p99_ms", round(all.getValueAtPercentile(99) / 1e3));
    out.put("p999_ms", round(all.getValueAtPercentile(99.9) / 1e3));
    out.put("max_ms", round(all.getMaxValue() / 1e3));
    return out;
  }

  /** One load phase's results. */
  /**
   * A closed-loop phase: its requests over its {@code seconds}; {@code cpuSeconds} the process's
   * CPU over those seconds, {@code drainedCpuSeconds} until the report had joined every exposure
   * the phase caused ({@code drainSeconds} after its end); {@code caughtUp}: the report did count
   * every answer by then (false: the drained figures stop at the drain's timeout, and undercount).
   */
  record Phase(long requests, double seconds, double[] latenciesMs, long errors,
      double cpuSeconds, double drainedCpuSeconds, double drainSeconds, boolean caughtUp) {
    double rps() {
      return requests / seconds;
    }

    /** Process CPU (every thread: client, server, broker, JIT, GC) per request, µs. */
    double cpuMicrosPerRequest() {
      return requests == 0 ? 0 : cpuSeconds * 1e6 / requests;
    }

    /** The same, with the stream thread's joins of the phase's exposures after its end. */
    double drainedCpuMicrosPerRequest() {
      return requests == 0 ? 0 : drainedCpuSeconds * 1e6 / requests;
    }

    double percentile(double p) {
      if (latenciesMs.length == 0) {
        return 0;
      }
      double[] s = latenciesMs.clone();
      Arrays.sort(s);
      return s[Math.min(s.length - 1, Math.max(0, (int) Math.ceil(p / 100 * s.length) - 1))];
    }
  }

  private interface Call {
    boolean call(int index) throws Exception;

    /** Releases what the calls held (connections), after a phase. */
    default void close() {}
  }

  /**
   * HTTP/1.1 with keep-alive over one socket per client thread, requests serialised up front: the
   * load generator shares the machine's cores with the server, so it must cost little.
   */
  private Call http(int port, String path, List<RerankApi.RerankRequest> requests) {
    List<byte[]> raw = new ArrayList<>();
    for (RerankApi.RerankRequest r : requests) {
      byte[] body = json.writeValueAsBytes(r);
      byte[] head = ("POST " + path + " HTTP/1.1\r\nHost: localhost:" + port
          + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII);
      byte[] all = Arrays.copyOf(head, head.length + body.length);
      System.arraycopy(body, 0, all, head.length, body.length);
      raw.add(all);
    }
    AtomicLong counted = path.equals(RERANK_PATH) ? answered.computeIfAbsent(
        requests.get(0).experiment(), k -> new AtomicLong()) : null;
    ThreadLocal<LoopbackConnection[]> connections = ThreadLocal.withInitial(() ->
        new LoopbackConnection[1]);
    ConcurrentLinkedQueue<LoopbackConnection> opened = new ConcurrentLinkedQueue<>();
    return new Call() {
      @Override
      public boolean call(int i) throws Exception {
        LoopbackConnection[] mine = connections.get();
        if (mine[0] == null || mine[0].closed) {
          mine[0] = new LoopbackConnection(port);
          opened.add(mine[0]);
        }
        try {
          boolean ok = mine[0].exchange(raw.get(i % raw.size())) == 200;
          if (ok && counted != null) {
            counted.incrementAndGet();
          }
          return ok;
        } catch (java.io.IOException e) {
          mine[0].close();
          throw e;
        }
      }

      @Override
      public void close() {
        opened.forEach(LoopbackConnection::close);
      }
    };
  }

  /**
   * A minimal keep-alive HTTP/1.1 client connection. Responses are parsed straight from the
   * connection's own byte buffer (no per-byte stream calls): whatever the client spends is counted
   * in the HTTP phase's CPU, so it is kept to a few syscalls and a scan per response.
   */
  static final class LoopbackConnection {
    private final java.net.Socket socket;
    private final java.io.OutputStream out;
    private final java.io.InputStream in;
    private final byte[] buf = new byte[1 << 16];
    private int pos;
    private int limit;
    boolean closed;

    LoopbackConnection(int port) {
      try {
        socket = new java.net.Socket("localhost", port);
        socket.setTcpNoDelay(true);
        out = socket.getOutputStream();
        in = socket.getInputStream();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }

    /** Sends one request and reads the whole response; returns the status code. */
    int exchange(byte[] request) throws java.io.IOException {
      return exchange(request, null);
    }

    /**
     * Sends one request and reads the whole response, its body copied into {@code body} when
     * that is not null; returns the status code.
     */
    int exchange(byte[] request, java.io.ByteArrayOutputStream body) throws java.io.IOException {
      out.write(request);
      String status = line();
      int code = Integer.parseInt(status.substring(9, 12));
      int length = -1;
      boolean chunked = false;
      for (String h = line(); !h.isEmpty(); h = line()) {
        if (h.regionMatches(true, 0, "content-length:", 0, 15)) {
          length = Integer.parseInt(h.substring(15).trim());
        } else if (h.regionMatches(true, 0, "transfer-encoding:", 0, 18)
            && h.toLowerCase(java.util.Locale.ROOT).contains("chunked")) {
          chunked = true;
        } else if (h.regionMatches(true, 0, "connection:", 0, 11)
            && h.toLowerCase(java.util.Locale.ROOT).contains("close")) {
          closed = true;
        }
      }
      if (chunked) {
        for (int size = Integer.parseInt(line().trim(), 16); size > 0;
            size = Integer.parseInt(line().trim(), 16)) {
          skip(size, body);
          line();
        }
        line();
      } else if (length > 0) {
        skip(length, body);
      }
      if (closed) {
        close();
      }
      return code;
    }

    void close() {
      closed = true;
      try {
        socket.close();
      } catch (java.io.IOException ignored) {
        // already gone
      }
    }

    /** Reads more bytes into the buffer (compacting it first); false at end of stream. */
    private boolean fill() throws java.io.IOException {
      if (pos > 0) {
        System.arraycopy(buf, pos, buf, 0, limit - pos);
        limit -= pos;
        pos = 0;
      }
      if (limit == buf.length) {
        throw new java.io.IOException("response line longer than " + buf.length + " bytes");
      }
      int n = in.read(buf, limit, buf.length - limit);
      if (n < 0) {
        return false;
      }
      limit += n;
      return true;
    }

    /** The next line without its CR LF. */
    private String line() throws java.io.IOException {
      int scanned = pos;
      while (true) {
        for (int i = scanned; i < limit; i++) {
          if (buf[i] == '\n') {
            int end = i > pos && buf[i - 1] == '\r' ? i - 1 : i;
            String line = new String(buf, pos, end - pos, StandardCharsets.ISO_8859_1);
            pos = i + 1;
            return line;
          }
        }
        scanned = limit - pos; // offsets move to 0 when fill() compacts
        if (!fill()) {
          throw new java.io.EOFException("connection closed");
        }
        scanned = Math.min(scanned, limit);
      }
    }

    /** Consumes n bytes of body, copying them into {@code body} unless it is null. */
    private void skip(int n, java.io.ByteArrayOutputStream body) throws java.io.IOException {
      while (n > 0) {
        if (pos == limit && !fill()) {
          throw new java.io.EOFException("connection closed");
        }
        int take = Math.min(n, limit - pos);
        if (body != null) {
          body.write(buf, pos, take);
        }
        pos += take;
        n -= take;
      }
    }
  }

  private Call inProcess(RerankService service, List<RerankApi.RerankRequest> requests) {
    AtomicLong counted = answered.computeIfAbsent(requests.get(0).experiment(),
        k -> new AtomicLong());
    return i -> {
      service.rerank(requests.get(i % requests.size()), null);
      counted.incrementAndGet();
      return true;
    };
  }

  /**
   * Runs {@code threads} loops of calls: a warm-up of 2 s, the report caught up ({@link #drain}),
   * then the timed phase, and the report caught up again.
   */
  private Phase load(Call call, ConfigurableApplicationContext app) throws Exception {
    run(call, Math.min(2, options.seconds()), null);
    drain(app);
    ConcurrentLinkedQueue<double[]> latencies = new ConcurrentLinkedQueue<>();
    long cpu0 = processCpuNanos();
    long start = System.nanoTime();
    long[] counts = run(call, options.seconds(), latencies);
    long end = System.nanoTime();
    double seconds = (end - start) / 1e9;
    double cpu = (processCpuNanos() - cpu0) / 1e9;
    boolean caughtUp = drain(app);
    double drainSeconds = (System.nanoTime() - end) / 1e9;
    double drainedCpu = (processCpuNanos() - cpu0) / 1e9;
    List<Double> all = new ArrayList<>();
    for (double[] l : latencies) {
      for (double x : l) {
        all.add(x);
      }
    }
    return new Phase(counts[0], seconds, all.stream().mapToDouble(Double::doubleValue).toArray(),
        counts[1], cpu, drainedCpu, drainSeconds, caughtUp);
  }

  /** How long {@link #drain} waits for the report before it goes on (and says so). */
  static final long DRAIN_TIMEOUT_NANOS = 120_000_000_000L;
  /** How often {@link #drain} asks: its answer's resolution. */
  static final long DRAIN_POLL_MILLIS = 10;

  /**
   * Waits until the durable report counts every answer given so far: the stream thread has joined
   * every exposure (parsed it, stored it pending, updated the arm's aggregate). Up to {@link
   * #DRAIN_TIMEOUT_NANOS}; a report still behind then is logged and the run goes on.
   *
   * @return whether the report counted every answer (of every arm) in time
   */
  private boolean drain(ConfigurableApplicationContext app) {
    Map<ArmChoice, Long> reported = awaitReport(app, DRAIN_TIMEOUT_NANOS, DRAIN_POLL_MILLIS);
    boolean caughtUp = true;
    for (Map.Entry<ArmChoice, Long> e : reported.entrySet()) {
      long given = answered.getOrDefault("bench-" + e.getKey().wireName(), new AtomicLong())
          .get();
      if (e.getValue() < given) {
        caughtUp = false;
        log.printf("the report still lacks %,d of %,d %s answers after %d s%n",
            given - e.getValue(), given, e.getKey().wireName(),
            DRAIN_TIMEOUT_NANOS / 1_000_000_000L);
      }
    }
    return caughtUp;
  }

  private long[] run(Call call, int seconds, ConcurrentLinkedQueue<double[]> latencies)
      throws InterruptedException {
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    AtomicLong ok = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    CountDownLatch done = new CountDownLatch(options.threads());
    for (int t = 0; t < options.threads(); t++) {
      int offset = t * 7919;
      Thread thread = new Thread(() -> {
        double[] mine = new double[1 << 16];
        int n = 0;
        try {
          for (int i = offset; System.nanoTime() < end; i++) {
            long s = System.nanoTime();
            boolean success;
            try {
              success = call.call(i);
            } catch (Exception e) {
              success = false;
            }
            if (success) {
              ok.incrementAndGet();
              if (n < mine.length) {
                mine[n++] = (System.nanoTime() - s) / 1e6;
              }
            } else {
              errors.incrementAndGet();
            }
          }
        } finally {
          if (latencies != null) {
            latencies.add(Arrays.copyOf(mine, n));
          }
          done.countDown();
        }
      }, "bench-client-" + t);
      thread.start();
    }
    done.await();
    call.close();
    return new long[] {ok.get(), errors.get()};
  }

  /**
   * JIT-compiles both paths and lets the background work of loading (commits, compactions)
   * settle. On two cores C2 needs tens of seconds for the HTTP stack: measured here, HTTP rates
   * still rose 2.5× between the first and the third 5 s phase. So: rounds of 3 s per path and arm
   * until no arm's HTTP rate moves by more than 10 % from one round to the next (at least 2 rounds
   * when allowed, at most {@code maxWarmUpRounds}; rounds are shorter when the phases are). Each
   * round also sends a second of requests to the transport probe.
   */
  private void warmUp(int port, RerankService service,
      Map<ArmChoice, List<RerankApi.RerankRequest>> requests) throws Exception {
    Map<ArmChoice, Double> previous = new LinkedHashMap<>();
    int seconds = Math.min(3, options.seconds());
    for (int round = 1; round <= options.maxWarmUpRounds(); round++) {
      boolean settled = round > 1;
      StringBuilder rates = new StringBuilder();
      for (Map.Entry<ArmChoice, List<RerankApi.RerankRequest>> e : requests.entrySet()) {
        long start = System.nanoTime();
        double rps = run(http(port, RERANK_PATH, e.getValue()), seconds, null)[0]
            / ((System.nanoTime() - start) / 1e9);
        run(inProcess(service, e.getValue()), seconds, null);
        Double before = previous.put(e.getKey(), rps);
        settled &= before != null && Math.abs(rps - before) <= 0.10 * before;
        rates.append(String.format(" %s %,.0f req/s", e.getKey().wireName(), rps));
      }
      // the probe too, every round: a handler first met after warm-up makes Spring's call sites
      // polymorphic, and the recompilation would land in the next measured phase
      run(http(port, PROBE_PATH, requests.values().iterator().next()), Math.max(1, seconds / 3),
          null);
      log.printf("warm-up round %d: HTTP%s%n", round, rates);
      if (settled) {
        return;
      }
    }
  }

  /** The table printed after the run. */
  @SuppressWarnings("unchecked")
  public static String table(Map<String, Object> doc) {
    StringBuilder b = new StringBuilder("| arm | HTTP req/s | p50 ms | p99 ms | CPU µs/req "
        + "(phase / drained) | in-process req/s | in-process CPU µs/req (phase / drained) "
        + "| HTTP / in-process | bound |\n"
        + "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    ((Map<String, Object>) doc.get("by_arm")).forEach((arm, v) -> {
      Map<String, Object> m = (Map<String, Object>) v;
      b.append(String.format("| %s | %,.0f | %.2f | %.2f | %.0f / %.0f | %,.0f | %.0f / %.0f "
          + "| %.2f | %.2f |%n", arm, m.get("rerank_rps"), m.get("p50_ms"), m.get("p99_ms"),
          m.get("http_cpu_us_per_request"), m.get("http_cpu_us_per_request_drained"),
          m.get("inprocess_rps"), m.get("inprocess_cpu_us_per_request"),
          m.get("inprocess_cpu_us_per_request_drained"), m.get("http_over_inprocess"),
          m.get("http_ratio_bound")));
    });
    Map<String, Object> probe = (Map<String, Object>) doc.get("transport_probe");
    if (probe != null) {
      b.append(String.format("| transport only (%s) | %,.0f | %.2f | %.2f | %.0f | | | | |%n",
          probe.get("path"), probe.get("rps"), probe.get("p50_ms"), probe.get("p99_ms"),
          probe.get("cpu_us_per_request")));
      b.append("\nbound (last column) = in-process CPU / (in-process CPU + transport CPU) over "
          + "the phases: the most HTTP / in-process can be when both phases are CPU-bound. The "
          + "target's bound below compares drained CPU per request: saturation / bound = "
          + "(in-process + transport) / HTTP, each with the joins its exposures caused.\n");
    }
    Map<String, Object> exposures = (Map<String, Object>) doc.get("exposure_accounting");
    if (exposures != null) {
      b.append("\n| arm | answers | exposures in the report |\n|---|---:|---:|\n");
      exposures.forEach((arm, v) -> {
        if (v instanceof Map<?, ?> m) {
          b.append(String.format("| %s | %,d | %,d |%n", arm, m.get("answered"),
              m.get("in_report")));
        }
      });
      b.append(String.format("%nexposures missing from the report: %s; unpublished: %s; "
          + "log lines: out-of-order sequence (broker or client) %s, concurrent transactions "
          + "%s%n", exposures.get("missing"), exposures.get("unpublished"),
          exposures.get("out_of_order_sequence_log_lines"),
          exposures.get("concurrent_transactions_log_lines")));
    }
    b.append("\n| arm | saturation req/s | bound req/s | saturation / bound | p50 / p99 / p99.9 ms "
        + "at 25% | at 50% | at 75% | in-process floor µs | floor / in-process CPU |\n"
        + "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    ((Map<String, Object>) doc.get("by_arm")).forEach((arm, v) -> {
      Map<String, Object> m = (Map<String, Object>) v;
      Map<String, Object> open = (Map<String, Object>) m.get("open_loop");
      StringBuilder row = new StringBuilder(String.format("| %s | %,.0f | %,.0f | %.2f |", arm,
          m.get("saturation_rps"), m.get("bound"), m.get("saturation_vs_bound")));
      for (String p : List.of("25pct", "50pct", "75pct")) {
        Map<String, Object> o = (Map<String, Object>) open.get(p);
        row.append(String.format(" %.2f / %.2f / %.2f |", o.get("p50_ms"), o.get("p99_ms"),
            o.get("p999_ms")));
      }
      row.append(String.format(" %.1f | %.3f |%n", m.get("inprocess_floor_us"),
          m.get("inprocess_floor_fraction")));
      b.append(row);
    });
    Map<String, Object> fresh = (Map<String, Object>) doc.get("freshness");
    if (fresh != null) {
      Map<String, Object> load = (Map<String, Object>) fresh.get("rerank_load");
      b.append(String.format("%nfreshness, produce to the first rerank answer that counts the "
          + "event: p50 %.1f ms, p99 %.1f ms, max %.1f ms (%s of %s probes answered; under "
          + "%,.0f rerank req/s, p99 %.2f ms, and %,d events/s of ingest)%n", fresh.get("p50_ms"),
          fresh.get("p99_ms"), fresh.get("max_ms"), fresh.get("answered"), fresh.get("probes"),
          load.get("achieved_rps"), load.get("p99_ms"), fresh.get("ingest_events_per_s_asked")));
    }
    ((Map<String, Object>) doc.get("by_arm")).forEach((arm, v) ->
        ((Map<String, Object>) ((Map<String, Object>) v).get("targets")).forEach((k, t) ->
            b.append(String.format("target %s, %s: %s%n", arm, k, Boolean.TRUE.equals(t) ? "met"
                : "NOT met"))));
    return b.toString();
  }

  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean)
        java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static double round(double x) {
    return Math.round(x * 1000) / 1000.0;
  }
}
