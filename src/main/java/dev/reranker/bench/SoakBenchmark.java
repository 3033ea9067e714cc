package dev.reranker.bench;

import dev.reranker.config.RerankerApplication;
import dev.reranker.data.EventType;
import dev.reranker.data.Interaction;
import dev.reranker.data.InteractionJson;
import dev.reranker.experiment.ArmChoice;
import dev.reranker.experiment.ExperimentRegistry;
import dev.reranker.ingest.IngestMetrics;
import dev.reranker.serving.RerankApi;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.PrintStream;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;
import org.HdrHistogram.Recorder;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * A soak: the service in this JVM (in-process broker, REST on loopback) under rerank load and
 * ingestion together for {@code minutes}, sampled every {@code sampleSeconds}: resident set size
 * (the kernel's VmRSS: heap, metaspace, code, threads, RocksDB, ND4J), heap used and heap after
 * the interval's last collection, the live heap after an explicit full collection (twice: at a
 * fifth of the run and at its end, the comparison that tells a leak from floating garbage), native
 * buffers (JavaCPP/ND4J bytes, NIO direct), GC pauses (count, longest, total; the explicit
 * collections left out), requests, errors, p50/p99 of the interval, events ingested, and the state
 * cache's bytes.
 *
 * <p>The load is paced (a fixed request and event rate, not as fast as possible): a soak is about
 * what a steady production load does to memory over time, and a saturated machine would measure
 * its own queueing. Users are drawn uniformly from a pool larger than the state cache holds, so
 * the cache fills in the first minute and then evicts for the rest of the run: memory should be
 * bounded by the cache weight, the RocksDB settings and the aggregates, not grow with events.
 *
 * <p>Memory counts as flat when, over the run after its first fifth (the cache filling), the
 * least-squares trend of RSS and of native bytes changes them by less than 10 % of their mean
 * (or 32 MB, whichever is larger), and the live heap at the end is within the same bound of the
 * live heap at a fifth of the run.
 */
public final class SoakBenchmark {

  /**
   * @param minutes how long the load runs
   * @param cacheMaxBytes the state cache's budget (small, so it fills and evicts during the run)
   */
  public record Options(double minutes, int sampleSeconds, int users, int eventsPerSecond,
      int requestsPerSecond, int threads, int candidates, long cacheMaxBytes,
      int preloadEventsPerUser, long rocksdbBudgetBytes, long seed,
      List<String> serviceArguments) {
    public Options {
      serviceArguments = List.copyOf(serviceArguments);
      if (minutes <= 0 || sampleSeconds < 1 || users < 1 || eventsPerSecond < 0
          || requestsPerSecond < 1 || threads < 1 || candidates < 1 || cacheMaxBytes < 1) {
        throw new IllegalArgumentException("every soak setting must be positive: " + this);
      }
    }
  }

  /** One sampling interval. Memory in MiB, times in ms, counts within the interval. */
  public record Sample(double seconds, double rssMb, double heapUsedMb, double heapAfterGcMb,
      double liveHeapMb, double nativeMb, double directMb, long gcCount, double gcPauseMaxMs,
      double gcPauseTotalMs, long requests, long errors, double p50Ms, double p99Ms, long events,
      double cacheMb, double heapCommittedMb, double nonHeapMb, double rocksdbMb) {
    /** RSS not explained by the committed heap, metaspace/code, RocksDB and the native buffers. */
    public double otherNativeMb() {
      return rssMb - heapCommittedMb - nonHeapMb - rocksdbMb - nativeMb - directMb;
    }
  }

  static final int ITEMS = BenchModels.ITEMS;
  private static final double MB = 1024.0 * 1024.0;

  private final Options options;
  private final PrintStream log;
  private final ObjectMapper json = JsonMapper.builder().build();

  public SoakBenchmark(Options options, PrintStream log) {
    this.options = options;
    this.log = log;
  }

  public Map<String, Object> run() throws Exception {
    Path work = Files.createTempDirectory("reranker-soak");
    try {
      return runIn(work);
    } finally {
      BenchFiles.deleteTree(work);
    }
  }

  private Map<String, Object> runIn(Path work) throws Exception {
    List<String> items = BenchModels.save(work, options.seed(), "soak (random weights)");
    List<String> args = new ArrayList<>(List.of(
        "--server.port=0", "--reranker.kafka.embedded-data-dir=" + work.resolve("kafka"),
        "--spring.kafka.streams.state-dir=" + work.resolve("streams"),
        "--reranker.models.performer=" + work.resolve("models/performer"),
        "--reranker.models.softmax=" + work.resolve("models/softmax"),
        "--reranker.security.admin-api-key=soak",
        "--reranker.state.cache-max-bytes=" + options.cacheMaxBytes(),
        "--spring.kafka.streams.properties[reranker.rocksdb.memory-bytes]="
            + options.rocksdbBudgetBytes(),
        "--server.tomcat.max-keep-alive-requests=-1", "--logging.level.root=WARN"));
    for (String extra : options.serviceArguments()) {
      String name = extra.contains("=") ? extra.substring(0, extra.indexOf('=') + 1) : extra;
      args.removeIf(a -> a.startsWith(name));
      args.add(extra);
    }
    GcWatch gc = new GcWatch();
    ConfigurableApplicationContext app = RerankerApplication.run(args.toArray(String[]::new));
    AtomicBoolean running = new AtomicBoolean(true);
    List<Thread> threads = new ArrayList<>();
    try {
      int port = Integer.parseInt(app.getEnvironment().getProperty("local.server.port"));
      String servers = app.getBean(org.springframework.kafka.core.KafkaAdmin.class)
          .getConfigurationProperties().get("bootstrap.servers").toString()
          .replace("[", "").replace("]", "");
      app.getBean(ExperimentRegistry.class).put("soak", Map.of(ArmChoice.PERFORMER, 0.5,
          ArmChoice.SOFTMAX, 0.5), false, 10, null);
      IngestMetrics ingest = app.getBean(IngestMetrics.class);
      MeterRegistry meters = app.getBean(MeterRegistry.class);
      dev.reranker.state.StateCache stateCache = app.getBean(dev.reranker.state.UserStates.class)
          .cache();
      var streams = app.getBean(org.springframework.kafka.config.StreamsBuilderFactoryBean.class);

      preload(servers, items, ingest);
      AtomicLong produced = new AtomicLong();
      Thread producer = new Thread(() -> produce(servers, items, running, produced), "soak-events");
      threads.add(producer);
      Recorder latencies = new Recorder(3);
      AtomicLong requests = new AtomicLong();
      AtomicLong errors = new AtomicLong();
      List<byte[]> raw = requests(items, port);
      double perThread = (double) options.requestsPerSecond() / options.threads();
      for (int t = 0; t < options.threads(); t++) {
        int offset = t * 7919;
        threads.add(new Thread(() -> client(port, raw, offset, perThread, running, latencies,
            requests, errors), "soak-client-" + t));
      }
      threads.forEach(Thread::start);

      List<Sample> samples = new ArrayList<>();
      long start = System.nanoTime();
      long total = (long) (options.minutes() * 60e9);
      long step = options.sampleSeconds() * 1_000_000_000L;
      int n = (int) Math.max(1, total / step);
      int liveAt = Math.max(1, n / 5);
      long lastRequests = 0;
      long lastErrors = 0;
      long lastEvents = ingest.appliedCount();
      log.printf("soak: %.1f min, %d req/s, %d events/s, %d users, cache %d MiB; a sample every"
          + " %d s%n", options.minutes(), options.requestsPerSecond(), options.eventsPerSecond(),
          options.users(), options.cacheMaxBytes() >> 20, options.sampleSeconds());
      latencies.getIntervalHistogram(); // reset
      gc.interval();
      for (int i = 1; i <= n; i++) {
        sleepUntil(start + i * step);
        var h = latencies.getIntervalHistogram();
        GcWatch.Interval g = gc.interval();
        double live = Double.NaN;
        if (i == liveAt || i == n) {
          live = liveHeapMb(gc);
        }
        long req = requests.get();
        long err = errors.get();
        long ev = ingest.appliedCount();
        // the cache's pending evictions done before its size is read: Caffeine evicts in its
        // maintenance, which a loaded machine runs late, and the budget is what is being measured
        stateCache.cleanUp();
        Sample s = new Sample((System.nanoTime() - start) / 1e9, rssMb(),
            heapUsedMb(), g.heapAfterMb(), live, javacppMb(), directMb(), g.count(), g.maxMs(),
            g.totalMs(), req - lastRequests, err - lastErrors, h.getValueAtPercentile(50) / 1e3,
            h.getValueAtPercentile(99) / 1e3, ev - lastEvents, gauge(meters,
                "reranker.state.cache.bytes") / MB, heapCommittedMb(), nonHeapCommittedMb(),
            rocksdbMb(streams.getKafkaStreams()));
        lastRequests = req;
        lastErrors = err;
        lastEvents = ev;
        samples.add(s);
        log.printf(Locale.ROOT, "%6.0f s  RSS %6.0f MiB = heap committed %5.0f + non-heap %4.0f"
            + " + RocksDB %4.0f + ND4J/direct %3.0f + other %4.0f | heap %5.0f (after GC %5.0f%s)"
            + "  GC %3d (max %5.1f ms)  %5d req  %d err  p99 %6.2f ms  %5d events  cache %4.0f"
            + "%n", s.seconds(), s.rssMb(), s.heapCommittedMb(), s.nonHeapMb(), s.rocksdbMb(),
            s.nativeMb() + s.directMb(), s.otherNativeMb(), s.heapUsedMb(), s.heapAfterGcMb(),
            Double.isNaN(live) ? "" : String.format(Locale.ROOT, ", live %.0f", live),
            s.gcCount(), s.gcPauseMaxMs(), s.requests(), s.errors(), s.p99Ms(), s.events(),
            s.cacheMb());
      }
      running.set(false);
      for (Thread t : threads) {
        t.join(10_000);
      }
      return report(samples, produced.get());
    } finally {
      running.set(false);
      app.close();
      gc.close();
    }
  }

  private Map<String, Object> report(List<Sample> samples, long produced) {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("benchmark", "soak");
    Map<String, Object> config = new LinkedHashMap<>();
    config.put("minutes", options.minutes());
    config.put("sample_seconds", options.sampleSeconds());
    config.put("users", options.users());
    config.put("events_per_second", options.eventsPerSecond());
    config.put("requests_per_second", options.requestsPerSecond());
    config.put("client_threads", options.threads());
    config.put("candidates", options.candidates());
    config.put("cache_max_bytes", options.cacheMaxBytes());
    config.put("rocksdb_memory_bytes", options.rocksdbBudgetBytes());
    config.put("preload_events_per_user", options.preloadEventsPerUser());
    config.put("items", ITEMS);
    config.put("model", "d=64, 2 layers, 2 heads, m=64 (random weights); experiment 50/50");
    config.put("max_heap_mb", Runtime.getRuntime().maxMemory() / (1 << 20));
    config.put("service_arguments", options.serviceArguments());
    doc.put("config", config);
    doc.put("machine", Machine.describe());
    List<Sample> steady = samples.subList(samples.size() / 5, samples.size());
    long requests = samples.stream().mapToLong(Sample::requests).sum();
    long errors = samples.stream().mapToLong(Sample::errors).sum();
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("requests", requests);
    summary.put("errors", errors);
    summary.put("events_produced", produced);
    summary.put("events_ingested", samples.stream().mapToLong(Sample::events).sum());
    summary.put("p99_ms_max_interval", round(samples.stream().mapToDouble(Sample::p99Ms).max()
        .orElse(0)));
    summary.put("p99_ms_median_interval", round(median(samples.stream()
        .mapToDouble(Sample::p99Ms).toArray())));
    summary.put("gc_pause_max_ms", round(samples.stream().mapToDouble(Sample::gcPauseMaxMs).max()
        .orElse(0)));
    double[] live = samples.stream().mapToDouble(Sample::liveHeapMb).filter(x -> !Double.isNaN(x))
        .toArray();
    Trend rss = Trend.of(steady, Sample::rssMb);
    Trend nat = Trend.of(steady, s -> s.nativeMb() + s.directMb());
    Trend heapAfter = Trend.of(steady, Sample::heapAfterGcMb);
    Trend heapCommitted = Trend.of(steady, Sample::heapCommittedMb);
    Trend rocksdb = Trend.of(steady, Sample::rocksdbMb);
    Trend other = Trend.of(steady, Sample::otherNativeMb);
    summary.put("rss_mb", rss.toMap());
    summary.put("heap_committed_mb", heapCommitted.toMap());
    summary.put("rocksdb_mb", rocksdb.toMap());
    summary.put("native_mb", nat.toMap());
    summary.put("other_native_mb", other.toMap());
    summary.put("heap_after_gc_mb", heapAfter.toMap());
    summary.put("live_heap_mb", Arrays.stream(live).map(SoakBenchmark::round).boxed().toList());
    summary.put("rocksdb_budget_mb", options.rocksdbBudgetBytes() >> 20);
    boolean liveFlat = live.length < 2 || live[live.length - 1] - live[0]
        < Math.max(32, 0.1 * live[0]);
    boolean rocksdbBounded = rocksdb.max() <= 1.05 * (options.rocksdbBudgetBytes() / MB);
    boolean heapBounded = heapCommitted.max() <= Runtime.getRuntime().maxMemory() / MB + 1;
    boolean flat = liveFlat && rocksdbBounded && heapBounded && nat.flat() && other.flat();
    summary.put("live_heap_flat", liveFlat);
    summary.put("rocksdb_within_budget", rocksdbBounded);
    summary.put("memory_flat", flat);
    summary.put("rss_flat", rss.flat());
    summary.put("flat_rule", "the live heap (after a full GC) at the end − at a fifth < max(10 %,"
        + " 32 MiB); RocksDB's usage (block cache with the memtables charged to it, plus table "
        + "readers) within its budget; the committed heap within -Xmx; and, after the first "
        + "fifth, the least-squares change of the native buffers and of the RSS none of these "
        + "explain < max(10 % of mean, 32 MiB). The bounded parts may grow until they reach their"
        + " bounds (the heap until -Xmx, RocksDB's cache until its budget): RSS is flat once they"
        + " have (rss_flat)");
    doc.put("summary", summary);
    doc.put("samples", samples.stream().map(SoakBenchmark::sampleMap).toList());
    return doc;
  }

  /** A least-squares line through a series: its change over the series' span. */
  record Trend(double mean, double min, double max, double slopePerMinute, double change) {
    static Trend of(List<Sample> s, java.util.function.ToDoubleFunction<Sample> f) {
      int n = s.size();
      double mx = 0;
      double my = 0;
      double lo = Double.POSITIVE_INFINITY;
      double hi = Double.NEGATIVE_INFINITY;
      for (Sample x : s) {
        mx += x.seconds();
        my += f.applyAsDouble(x);
        lo = Math.min(lo, f.applyAsDouble(x));
        hi = Math.max(hi, f.applyAsDouble(x));
      }
      mx /= n;
      my /= n;
      double sxy = 0;
      double sxx = 0;
      for (Sample x : s) {
        sxy += (x.seconds() - mx) * (f.applyAsDouble(x) - my);
        sxx += (x.seconds() - mx) * (x.seconds() - mx);
      }
      double slope = sxx == 0 ? 0 : sxy / sxx; // per second
      double span = n < 2 ? 0 : s.get(n - 1).seconds() - s.get(0).seconds();
      return new Trend(my, lo, hi, slope * 60, slope * span);
    }

    boolean flat() {
      return change < Math.max(32, 0.1 * mean);
    }

    Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("mean", round(mean));
      m.put("min", round(min));
      m.put("max", round(max));
      m.put("trend_per_minute", round(slopePerMinute));
      m.put("trend_change", round(change));
      m.put("flat", flat());
      return m;
    }
  }

  private static Map<String, Object> sampleMap(Sample s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("seconds", round(s.seconds()));
    m.put("rss_mb", round(s.rssMb()));
    m.put("heap_used_mb", round(s.heapUsedMb()));
    m.put("heap_after_gc_mb", round(s.heapAfterGcMb()));
    m.put("live_heap_mb", Double.isNaN(s.liveHeapMb()) ? null : round(s.liveHeapMb()));
    m.put("native_mb", round(s.nativeMb()));
    m.put("direct_mb", round(s.directMb()));
    m.put("gc_count", s.gcCount());
    m.put("gc_pause_max_ms", round(s.gcPauseMaxMs()));
    m.put("gc_pause_total_ms", round(s.gcPauseTotalMs()));
    m.put("requests", s.requests());
    m.put("errors", s.errors());
    m.put("p50_ms", round(s.p50Ms()));
    m.put("p99_ms", round(s.p99Ms()));
    m.put("events", s.events());
    m.put("cache_mb", round(s.cacheMb()));
    m.put("heap_committed_mb", round(s.heapCommittedMb()));
    m.put("non_heap_mb", round(s.nonHeapMb()));
    m.put("rocksdb_mb", round(s.rocksdbMb()));
    m.put("other_native_mb", round(s.otherNativeMb()));
    return m;
  }

  /** The samples as CSV, a header line first. */
  public static String csv(List<Sample> samples) {
    StringBuilder b = new StringBuilder("seconds,rss_mb,heap_used_mb,heap_after_gc_mb,"
        + "live_heap_mb,native_mb,direct_mb,gc_count,gc_pause_max_ms,gc_pause_total_ms,requests,"
        + "errors,p50_ms,p99_ms,events,cache_mb,heap_committed_mb,non_heap_mb,rocksdb_mb,"
        + "other_native_mb\n");
    for (Sample s : samples) {
      b.append(String.format(Locale.ROOT, "%.1f,%.1f,%.1f,%.1f,%s,%.1f,%.1f,%d,%.2f,%.2f,%d,%d,"
          + "%.3f,%.3f,%d,%.1f,%.1f,%.1f,%.1f,%.1f%n", s.seconds(), s.rssMb(), s.heapUsedMb(),
          s.heapAfterGcMb(), Double.isNaN(s.liveHeapMb()) ? "" : String.format(Locale.ROOT,
              "%.1f", s.liveHeapMb()), s.nativeMb(), s.directMb(), s.gcCount(), s.gcPauseMaxMs(),
          s.gcPauseTotalMs(), s.requests(), s.errors(), s.p50Ms(), s.p99Ms(), s.events(),
          s.cacheMb(), s.heapCommittedMb(), s.nonHeapMb(), s.rocksdbMb(), s.otherNativeMb()));
    }
    return b.toString();
  }

  /** The samples from a report written by {@link #run}. */
  @SuppressWarnings("unchecked")
  public static List<Sample> samples(Map<String, Object> doc) {
    List<Sample> out = new ArrayList<>();
    for (Object o : (List<Object>) doc.get("samples")) {
      Map<String, Object> m = (Map<String, Object>) o;
      Object live = m.get("live_heap_mb");
      out.add(new Sample(d(m, "seconds"), d(m, "rss_mb"), d(m, "heap_used_mb"),
          d(m, "heap_after_gc_mb"), live == null ? Double.NaN : ((Number) live).doubleValue(),
          d(m, "native_mb"), d(m, "direct_mb"), ((Number) m.get("gc_count")).longValue(),
          d(m, "gc_pause_max_ms"), d(m, "gc_pause_total_ms"),
          ((Number) m.get("requests")).longValue(), ((Number) m.get("errors")).longValue(),
          d(m, "p50_ms"), d(m, "p99_ms"), ((Number) m.get("events")).longValue(),
          d(m, "cache_mb"), d(m, "heap_committed_mb"), d(m, "non_heap_mb"), d(m, "rocksdb_mb")));
    }
    return out;
  }

  private static double d(Map<String, Object> m, String k) {
    return ((Number) m.get(k)).doubleValue();
  }

  /** Three panels over time: memory (MiB), p99 latency (ms), longest GC pause (ms). */
  public static String svg(List<Sample> samples, String title) {
    return SoakPlot.svg(samples, title);
  }

  private List<byte[]> requests(List<String> items, int port) {
    SplittableRandom r = new SplittableRandom(options.seed() + 7);
    List<byte[]> out = new ArrayList<>();
    int pool = Math.min(options.users(), 4_096);
    for (int q = 0; q < pool; q++) {
      int[] pick = r.ints(0, items.size()).distinct().limit(options.candidates()).toArray();
      List<String> candidates = Arrays.stream(pick).mapToObj(items::get).toList();
      // a random user each: the pool of request bodies is smaller than the pool of users, so the
      // user id is spliced in per request (see client)
      byte[] body = json.writeValueAsBytes(new RerankApi.RerankRequest("USER-PLACEHOLDER",
          candidates, 10, "soak", null));
      out.add(body);
    }
    return out;
  }

  private void client(int port, List<byte[]> bodies, int offset, double perSecond,
      AtomicBoolean running, Recorder latencies, AtomicLong requests, AtomicLong errors) {
    SplittableRandom r = new SplittableRandom(options.seed() + offset);
    RerankBenchmark.LoopbackConnection c = null;
    long intervalNanos = (long) (1e9 / perSecond);
    long next = System.nanoTime();
    for (int i = offset; running.get(); i++) {
      next += intervalNanos;
      String user = "user-" + r.nextInt(options.users());
      String body = new String(bodies.get(i % bodies.size()), StandardCharsets.UTF_8)
          .replace("USER-PLACEHOLDER", user);
      byte[] b = body.getBytes(StandardCharsets.UTF_8);
      byte[] head = ("POST /v1/rerank HTTP/1.1\r\nHost: localhost:" + port
          + "\r\nContent-Type: application/json\r\nContent-Length: " + b.length + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII);
      byte[] all = Arrays.copyOf(head, head.length + b.length);
      System.arraycopy(b, 0, all, head.length, b.length);
      long s = System.nanoTime();
      try {
        if (c == null || c.closed) {
          c = new RerankBenchmark.LoopbackConnection(port);
        }
        int code = c.exchange(all);
        if (code != 200) {
          errors.incrementAndGet();
        }
      } catch (Exception e) {
        errors.incrementAndGet();
        if (c != null) {
          c.close();
        }
      }
      requests.incrementAndGet();
      latencies.recordValue(Math.max(1, (System.nanoTime() - s) / 1_000));
      long wait = next - System.nanoTime();
      if (wait > 0) {
        java.util.concurrent.locks.LockSupport.parkNanos(wait);
      } else if (wait < -1_000_000_000L) {
        next = System.nanoTime(); // far behind (a pause): do not burst to catch up
      }
    }
    if (c != null) {
      c.close();
    }
  }

  private void produce(String servers, List<String> items, AtomicBoolean running,
      AtomicLong produced) {
    if (options.eventsPerSecond() == 0) {
      return;
    }
    SplittableRandom r = new SplittableRandom(options.seed() + 3);
    long t = System.currentTimeMillis() - 86_400_000L;
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers, ProducerConfig.LINGER_MS_CONFIG, 5),
        new StringSerializer(), new ByteArraySerializer())) {
      long intervalNanos = 100_000_000L; // a batch every 100 ms
      int perBatch = Math.max(1, options.eventsPerSecond() / 10);
      long next = System.nanoTime();
      long n = 0;
      while (running.get()) {
        for (int i = 0; i < perBatch; i++) {
          String user = "user-" + r.nextInt(options.users());
          t += 1 + r.nextInt(3); // event time advances slower than the clock
          Interaction e = new Interaction(user, items.get(r.nextInt(items.size())), t,
              EventType.VIEW, "soak-" + n++);
          producer.send(new ProducerRecord<>(dev.reranker.data.Topics.INTERACTIONS, user,
              InteractionJson.toJson(e).getBytes(StandardCharsets.UTF_8)));
        }
        produced.addAndGet(perBatch);
        next += intervalNanos;
        long wait = next - System.nanoTime();
        if (wait > 0) {
          java.util.concurrent.locks.LockSupport.parkNanos(wait);
        }
      }
    }
  }

  /**
   * Gives every user {@code preloadEventsPerUser} events before the measurement, so the stores,
   * snapshots and caches start near the size the run keeps them at (a soak that starts empty
   * measures its stores filling up).
   */
  private void preload(String servers, List<String> items, IngestMetrics ingest)
      throws InterruptedException {
    if (options.preloadEventsPerUser() == 0) {
      return;
    }
    long start = System.nanoTime();
    long before = ingest.appliedCount();
    SplittableRandom r = new SplittableRandom(options.seed() + 5);
    long t0 = System.currentTimeMillis() - 3L * 86_400_000L;
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers, ProducerConfig.LINGER_MS_CONFIG, 20),
        new StringSerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < options.preloadEventsPerUser(); i++) {
        for (int u = 0; u < options.users(); u++) {
          Interaction e = new Interaction("user-" + u, items.get(r.nextInt(items.size())),
              t0 + (long) i * 60_000 + u, EventType.VIEW, "pre-" + u + "-" + i);
          producer.send(new ProducerRecord<>(dev.reranker.data.Topics.INTERACTIONS, e.userId(),
              InteractionJson.toJson(e).getBytes(StandardCharsets.UTF_8)));
        }
      }
    }
    long expected = before + (long) options.preloadEventsPerUser() * options.users();
    long deadline = System.nanoTime() + 600_000_000_000L;
    while (ingest.appliedCount() < expected && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    log.printf(Locale.ROOT, "preloaded %,d events (%d per user) in %.0f s%n",
        ingest.appliedCount() - before, options.preloadEventsPerUser(),
        (System.nanoTime() - start) / 1e9);
  }

  /** Collections seen through JMX notifications, summed per sampling interval. */
  static final class GcWatch implements AutoCloseable {
    record Interval(long count, double maxMs, double totalMs, double heapAfterMb) {}

    private final Set<String> heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
        .filter(p -> p.getType() == MemoryType.HEAP).map(MemoryPoolMXBean::getName)
        .collect(Collectors.toSet());
    private final List<Runnable> unsubscribe = new ArrayList<>();
    private long count;
    private double maxMs;
    private double totalMs;
    private double heapAfterMb = Double.NaN;

    GcWatch() {
      for (GarbageCollectorMXBean bean : ManagementFactory.getGarbageCollectorMXBeans()) {
        if (!(bean instanceof NotificationEmitter emitter)) {
          continue;
        }
        javax.management.NotificationListener l = (n, hb) -> {
          if (!"com.sun.management.gc.notification".equals(n.getType())) {
            return;
          }
          var info = com.sun.management.GarbageCollectionNotificationInfo.from(
              (CompositeData) n.getUserData());
          if (info.getGcAction().contains("concurrent") || info.getGcName().contains(
              "Concurrent")) {
            return; // a concurrent cycle's length, not a pause
          }
          boolean explicit = info.getGcCause().equals("System.gc()");
          double after = 0;
          for (Map.Entry<String, MemoryUsage> e : info.getGcInfo().getMemoryUsageAfterGc()
              .entrySet()) {
            if (heapPools.contains(e.getKey())) {
              after += e.getValue().getUsed();
            }
          }
          synchronized (this) {
            heapAfterMb = after / MB;
            if (explicit) { // the benchmark's own live-heap measurements
              return;
            }
            count++;
            maxMs = Math.max(maxMs, info.getGcInfo().getDuration());
            totalMs += info.getGcInfo().getDuration();
          }
        };
        emitter.addNotificationListener(l, null, null);
        unsubscribe.add(() -> {
          try {
            emitter.removeNotificationListener(l);
          } catch (javax.management.ListenerNotFoundException ignored) {
            // gone already
          }
        });
      }
    }

    synchronized Interval interval() {
      Interval i = new Interval(count, maxMs, totalMs, heapAfterMb);
      count = 0;
      maxMs = 0;
      totalMs = 0;
      return i;
    }

    @Override
    public void close() {
      unsubscribe.forEach(Runnable::run);
    }
  }

  /** Heap used right after a full, explicit collection: the live set (and its floating part). */
  private static double liveHeapMb(GcWatch gc) {
    System.gc();
    return heapUsedMb();
  }

  private static double heapCommittedMb() {
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted() / MB;
  }

  /** Metaspace, class space, code cache: the JVM's committed non-heap pools. */
  private static double nonHeapCommittedMb() {
    return ManagementFactory.getMemoryMXBean().getNonHeapMemoryUsage().getCommitted() / MB;
  }

  /**
   * RocksDB's memory from Kafka Streams' RocksDB property metrics (read from the client, not the
   * meter registry, whose Kafka binder picks new metrics up only every minute): the shared block
   * cache's usage
   * (every store reports the same cache, so the largest value; the memtables are charged to it by
   * the write-buffer manager) plus the table readers' memory outside it, summed over stores.
   */
  static double rocksdbMb(org.apache.kafka.streams.KafkaStreams streams) {
    if (streams == null) {
      return Double.NaN;
    }
    double cache = 0;
    double readers = 0;
    for (var e : streams.metrics().entrySet()) {
      String name = e.getKey().name();
      if (!(e.getValue().metricValue() instanceof Number n)) {
        continue;
      }
      if (name.equals("block-cache-usage")) {
        cache = Math.max(cache, n.doubleValue());
      } else if (name.equals("estimate-table-readers-mem")) {
        readers += n.doubleValue();
      }
    }
    return (cache + readers) / MB;
  }

  private static double heapUsedMb() {
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / MB;
  }

  /** VmRSS from /proc/self/status (Linux); NaN elsewhere. */
  static double rssMb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        }
      }
    } catch (Exception e) {
      return Double.NaN;
    }
    return Double.NaN;
  }

  /** Off-heap bytes JavaCPP has allocated (ND4J's buffers). */
  static double javacppMb() {
    return org.bytedeco.javacpp.Pointer.totalBytes() / MB;
  }

  static double directMb() {
    for (BufferPoolMXBean b : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
      if (b.getName().equals("direct")) {
        return b.getMemoryUsed() / MB;
      }
    }
    return 0;
  }

  /** The sum over every tag combination (the cache's bytes are per arm). */
  private static double gauge(MeterRegistry meters, String name) {
    return meters.find(name).gauges().stream().mapToDouble(io.micrometer.core.instrument.Gauge::value)
        .filter(Double::isFinite).sum();
  }

  private static double median(double[] x) {
    double[] s = x.clone();
    Arrays.sort(s);
    return s.length == 0 ? 0 : s[s.length / 2];
  }

  private static void sleepUntil(long nanos) throws InterruptedException {
    long wait = nanos - System.nanoTime();
    if (wait > 0) {
      Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
    }
  }

  static double round(double x) {
    return RerankBenchmark.round(x);
  }

  /** The summary as a table. */
  @SuppressWarnings("unchecked")
  public static String table(Map<String, Object> doc) {
    Map<String, Object> s = (Map<String, Object>) doc.get("summary");
    StringBuilder b = new StringBuilder();
    b.append("| measure | mean | min | max | trend / min | trend over run | flat |\n");
    b.append("|---|---:|---:|---:|---:|---:|---|\n");
    for (String k : List.of("rss_mb", "heap_committed_mb", "rocksdb_mb", "native_mb",
        "other_native_mb", "heap_after_gc_mb")) {
      Map<String, Object> t = (Map<String, Object>) s.get(k);
      b.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s |%n", k,
          t.get("mean"), t.get("min"), t.get("max"), t.get("trend_per_minute"),
          t.get("trend_change"), t.get("flat")));
    }
    b.append(String.format(Locale.ROOT, "%nlive heap after full GC (at a fifth, at the end): %s MiB"
        + "%nrequests %s, errors %s, p99 per interval: median %s ms, worst %s ms; longest GC "
        + "pause %s ms; events produced %s, ingested %s%nmemory flat: %s (RSS flat: %s)%n",
        s.get("live_heap_mb"), s.get("requests"), s.get("errors"), s.get("p99_ms_median_interval"),
        s.get("p99_ms_max_interval"), s.get("gc_pause_max_ms"), s.get("events_produced"),
        s.get("events_ingested"), s.get("memory_flat"), s.get("rss_flat")));
    return b.toString();
  }
}
