package dev.reranker.bench;

import dev.reranker.config.RerankerApplication;
import dev.reranker.data.EventType;
import dev.reranker.data.Interaction;
import dev.reranker.data.InteractionJson;
import dev.reranker.data.Topics;
import dev.reranker.experiment.ArmChoice;
import dev.reranker.experiment.ExperimentRegistry;
import dev.reranker.ingest.InProcessKafkaBroker;
import dev.reranker.ingest.IngestMetrics;
import dev.reranker.ingest.RestorationTracker;
import dev.reranker.serving.RerankApi;
import dev.reranker.serving.RerankService;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * What a lost disk costs, and what the stores weigh. One partition (so "a partition" is the whole
 * data set), U users × E events ingested by the service (in this JVM, over a broker of its own in
 * this JVM), a few hundred reranks (k = 10) so the exposures topic has records; then:
 *
 * <ol>
 *   <li><b>Sizes</b>: the service closed (RocksDB flushes its memtables), the bytes of each store's
 *       RocksDB directory, per retained event (history) and per user (snapshots); the bytes of each
 *       changelog topic on the broker; the mean exposure record (key + value) on
 *       {@code rerank.exposures}.</li>
 *   <li><b>Restore</b>: the state directory deleted (a lost disk, or a new pod without a standby),
 *       the service started again: time from start to the end of restoration and to readiness,
 *       records and changelog bytes restored per second.</li>
 * </ol>
 */
public final class RestoreBenchmark {

  /** Settings. */
  public record Options(int users, int eventsPerUser, int requests, long seed) {
    public Options {
      if (users < 1 || eventsPerUser < 1 || requests < 0) {
        throw new IllegalArgumentException("users and events per user must be ≥ 1: " + this);
      }
    }
  }

  static final int ITEMS = BenchModels.ITEMS;
  private static final String APP_ID = "restore-bench";

  private final Options options;
  private final PrintStream log;

  public RestoreBenchmark(Options options, PrintStream log) {
    this.options = options;
    this.log = log;
  }

  public Map<String, Object> run() throws Exception {
    Path work = Files.createTempDirectory("reranker-bench-restore");
    List<String> items = BenchModels.save(work, options.seed(), "benchmark (random weights)");
    Path stateDir = work.resolve("streams");
    try (InProcessKafkaBroker broker = InProcessKafkaBroker.start(work.resolve("kafka"), 0, 0)) {
      String servers = broker.bootstrapServers();
      String[] args = {
          "--server.port=0", "--spring.kafka.bootstrap-servers=" + servers,
          "--spring.kafka.streams.application-id=" + APP_ID,
          // a static member, as the service is where application.server is set: the restarted
          // instance takes its partitions back without waiting out the session timeout
          "--spring.kafka.streams.properties.main.consumer.group.instance.id=restore-bench-1",
          "--spring.kafka.streams.state-dir=" + stateDir,
          "--reranker.ingest.partitions=1",
          "--reranker.models.performer=" + work.resolve("models/performer"),
          "--reranker.models.softmax=" + work.resolve("models/softmax"),
          "--reranker.security.admin-api-key=bench", "--logging.level.root=WARN"};
      long events = (long) options.users() * options.eventsPerUser();

      ConfigurableApplicationContext app = RerankerApplication.run(args);
      long ingestStart = System.nanoTime();
      try {
        produce(servers, items);
        IngestMetrics metrics = app.getBean(IngestMetrics.class);
        long deadline = System.nanoTime() + Duration.ofMinutes(30).toNanos();
        while (metrics.appliedCount() < events && System.nanoTime() < deadline) {
          Thread.sleep(100);
        }
        if (metrics.appliedCount() < events) {
          throw new IllegalStateException("only " + metrics.appliedCount() + " of " + events
              + " events applied in 30 min");
        }
        log.printf(Locale.ROOT, "ingested %,d events for %,d users in %.1f s%n", events,
            options.users(), (System.nanoTime() - ingestStart) / 1e9);
        rerank(app, items);
        Thread.sleep(2_000); // the exposures flushed, the last commit done
      } finally {
        app.close(); // RocksDB flushes its memtables on close
      }

      Map<String, Long> storeBytes = storeBytes(stateDir);
      Map<String, Long> changelogBytes;
      double exposureBytes;
      long exposures;
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", servers))) {
        changelogBytes = changelogBytes(admin);
      }
      double[] ex = exposureRecordBytes(servers);
      exposures = (long) ex[0];
      exposureBytes = ex[1];

      // a lost disk: the same instance starts with no local state
      BenchFiles.deleteTree(stateDir);
      long t0 = System.nanoTime();
      ConfigurableApplicationContext again = RerankerApplication.run(args);
      long contextUp = System.nanoTime();
      long ready;
      RestorationTracker restoration;
      try {
        restoration = again.getBean(RestorationTracker.class);
        int port = Integer.parseInt(again.getEnvironment().getProperty("local.server.port"));
        ready = awaitReady(port);
      } finally {
        again.close();
      }
      double restoreSeconds = (restoration.lastEndNanos() - restoration.firstStartNanos()) / 1e9;
      long restored = restoration.restoredRecords();
      long changelogTotal = changelogBytes.values().stream().mapToLong(Long::longValue).sum();

      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("benchmark", "restore");
      Map<String, Object> config = new LinkedHashMap<>();
      config.put("users", options.users());
      config.put("events_per_user", options.eventsPerUser());
      config.put("events", events);
      config.put("partitions", 1);
      config.put("rerank_requests", options.requests());
      config.put("model", "d=64, 2 layers, 2 heads, m=64 (random weights); 5,000 items");
      doc.put("config", config);
      doc.put("machine", Machine.describe());
      Map<String, Object> sizes = new LinkedHashMap<>();
      storeBytes.forEach((k, v) -> sizes.put(k + "_rocksdb_bytes", v));
      changelogBytes.forEach((k, v) -> sizes.put(k + "_changelog_bytes", v));
      long history = storeBytes.getOrDefault(Topics.HISTORY_STORE, 0L);
      long snapshots = storeBytes.getOrDefault(Topics.SNAPSHOT_STORE, 0L);
      sizes.put("history_rocksdb_bytes_per_event", round((double) history / events));
      sizes.put("snapshots_rocksdb_bytes_per_user", round((double) snapshots / options.users()));
      sizes.put("all_stores_rocksdb_bytes_per_event", round((double) storeBytes.values().stream()
          .mapToLong(Long::longValue).sum() / events));
      sizes.put("changelog_bytes_per_event", round((double) changelogTotal / events));
      sizes.put("exposure_records", exposures);
      sizes.put("exposure_record_bytes", round(exposureBytes));
      doc.put("sizes", sizes);
      Map<String, Object> restore = new LinkedHashMap<>();
      restore.put("changelog_records_restored", restored);
      restore.put("changelog_bytes", changelogTotal);
      restore.put("context_up_ms", round((contextUp - t0) / 1e6));
      restore.put("restoration_ms", round(restoreSeconds * 1e3));
      restore.put("start_to_ready_ms", round((ready - t0) / 1e6));
      restore.put("records_per_second", round(restored / Math.max(1e-9, restoreSeconds)));
      restore.put("changelog_mb_per_second", round(changelogTotal / 1048576.0
          / Math.max(1e-9, restoreSeconds)));
      restore.put("events_per_second", round(events / Math.max(1e-9, restoreSeconds)));
      doc.put("restore", restore);
      return doc;
    } finally {
      BenchFiles.deleteTree(work);
    }
  }

  private void produce(String servers, List<String> items) {
    SplittableRandom r = new SplittableRandom(options.seed());
    long t0 = System.currentTimeMillis() - 30L * 86_400_000L;
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers, ProducerConfig.LINGER_MS_CONFIG, 20,
        ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024), new StringSerializer(),
        new ByteArraySerializer())) {
      for (int i = 0; i < options.eventsPerUser(); i++) {
        for (int u = 0; u < options.users(); u++) {
          Interaction e = new Interaction("user-" + u, items.get(r.nextInt(items.size())),
              t0 + (long) i * 60_000 + u, EventType.VIEW, "r-" + u + "-" + i);
          producer.send(new ProducerRecord<>(Topics.INTERACTIONS, e.userId(),
              InteractionJson.toJson(e).getBytes(StandardCharsets.UTF_8)));
        }
      }
    }
  }

  private void rerank(ConfigurableApplicationContext app, List<String> items) {
    app.getBean(ExperimentRegistry.class).put("restore", Map.of(ArmChoice.PERFORMER, 0.5,
        ArmChoice.SOFTMAX, 0.5), false, 10, null);
    RerankService service = app.getBean(RerankService.class);
    SplittableRandom r = new SplittableRandom(options.seed() + 1);
    for (int q = 0; q < options.requests(); q++) {
      List<String> candidates = r.ints(0, ITEMS).distinct().limit(100).mapToObj(items::get)
          .toList();
      service.rerank(new RerankApi.RerankRequest("user-" + r.nextInt(options.users()),
          candidates, 10, "restore", null), null);
    }
  }

  /** Bytes of each store's RocksDB directories, summed over tasks. */
  static Map<String, Long> storeBytes(Path stateDir) throws IOException {
    Map<String, Long> out = new TreeMap<>();
    if (!Files.isDirectory(stateDir)) {
      return out;
    }
    try (Stream<Path> files = Files.walk(stateDir)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        Path rel = stateDir.relativize(f);
        // <app-id>/<task>/rocksdb/<store>/...
        for (int i = 0; i + 1 < rel.getNameCount(); i++) {
          if (rel.getName(i).toString().equals("rocksdb")) {
            out.merge(rel.getName(i + 1).toString(), Files.size(f), Long::sum);
            break;
          }
        }
      }
    }
    return out;
  }

  private static Map<String, Long> changelogBytes(Admin admin) throws Exception {
    Map<String, Long> out = new TreeMap<>();
    Map<Integer, Map<String, LogDirDescription>> dirs = admin.describeLogDirs(List.of(1))
        .allDescriptions().get();
    for (Map<String, LogDirDescription> byDir : dirs.values()) {
      for (LogDirDescription d : byDir.values()) {
        for (var replica : d.replicaInfos().entrySet()) {
          String topic = replica.getKey().topic();
          if (topic.startsWith(APP_ID + "-") && topic.endsWith("-changelog")) {
            String store = topic.substring(APP_ID.length() + 1, topic.length()
                - "-changelog".length());
            out.merge(store, replica.getValue().size(), Long::sum);
          }
        }
      }
    }
    return out;
  }

  /** {count, mean key + value bytes} of the exposures topic's records. */
  private static double[] exposureRecordBytes(String servers) {
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(Map.of("bootstrap.servers",
        servers, "auto.offset.reset", "earliest", "group.id", "restore-bench-exposures",
        "isolation.level", "read_committed"), new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      c.subscribe(List.of(Topics.EXPOSURES));
      long n = 0;
      long bytes = 0;
      long idleSince = System.nanoTime();
      while (System.nanoTime() - idleSince < 5_000_000_000L) {
        var records = c.poll(Duration.ofMillis(500));
        for (ConsumerRecord<byte[], byte[]> rec : records) {
          n++;
          bytes += (rec.key() == null ? 0 : rec.key().length) + rec.value().length;
        }
        if (!records.isEmpty()) {
          idleSince = System.nanoTime();
        }
      }
      return new double[] {n, n == 0 ? 0 : (double) bytes / n};
    }
  }

  private static long awaitReady(int port) throws Exception {
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    var req = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://localhost:" + port
        + "/actuator/health/readiness")).header("X-Api-Key", "bench").build();
    long deadline = System.nanoTime() + Duration.ofMinutes(30).toNanos();
    while (System.nanoTime() < deadline) {
      try {
        if (http.send(req, java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode()
            == 200) {
          return System.nanoTime();
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(20);
    }
    throw new IllegalStateException("not ready within 30 min after the restore");
  }

  static double round(double x) {
    return RerankBenchmark.round(x);
  }

  /** The report as a table. */
  @SuppressWarnings("unchecked")
  public static String table(Map<String, Object> doc) {
    Map<String, Object> sizes = (Map<String, Object>) doc.get("sizes");
    Map<String, Object> restore = (Map<String, Object>) doc.get("restore");
    Map<String, Object> config = (Map<String, Object>) doc.get("config");
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "%,d users × %,d events = %,d events, one partition%n%n",
        config.get("users"), config.get("events_per_user"), config.get("events")));
    b.append("| size | bytes |\n|---|---:|\n");
    sizes.forEach((k, v) -> b.append("| ").append(k).append(" | ").append(v).append(" |\n"));
    b.append("\n| restore after the state directory is lost | value |\n|---|---:|\n");
    restore.forEach((k, v) -> b.append("| ").append(k).append(" | ").append(v).append(" |\n"));
    return b.toString();
  }
}
