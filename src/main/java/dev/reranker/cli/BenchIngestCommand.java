package dev.reranker.cli;

import dev.reranker.attention.Nd4jThreads;
import dev.reranker.bench.IngestBenchmark;
import dev.reranker.config.EngineModels;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bench ingest}: end-to-end ingestion rate against a bare Kafka consumer. */
@Command(name = "ingest", mixinStandardHelpOptions = true,
    description = "Produce synthetic events, then measure a bare Kafka consumer and the engine's "
        + "ingestion (validate, deduplicate, store, fold states) on the same topic.")
final class BenchIngestCommand implements Callable<Integer> {

  @Option(names = "--events", defaultValue = "200000",
      description = "Events to produce (default: ${DEFAULT-VALUE}).")
  int events;

  @Option(names = "--users", defaultValue = "2000",
      description = "Users they belong to (default: ${DEFAULT-VALUE}).")
  int users;

  @Option(names = "--partitions", defaultValue = "4",
      description = "Partitions of the topic (default: ${DEFAULT-VALUE}).")
  int partitions;

  @Option(names = "--model", defaultValue = "classpath:models/demo-performer",
      description = "A performer model artifact (default: ${DEFAULT-VALUE}).")
  String model;

  @Option(names = "--bootstrap-servers",
      description = "Use this cluster instead of an in-process broker.")
  String bootstrapServers;

  @Option(names = "--seed", defaultValue = "42", description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--commit-interval-ms", defaultValue = "100",
      description = "Kafka Streams commit interval of the measured topologies (default: "
          + "${DEFAULT-VALUE}, the service's).")
  int commitIntervalMs;

  @Option(names = "--streams-cache-bytes", defaultValue = "-1",
      description = "Kafka Streams record cache (statestore.cache.max.bytes); -1 keeps Kafka "
          + "Streams' default, as the service does (default: ${DEFAULT-VALUE}).")
  long streamsCacheBytes;

  @Option(names = "--out", description = "Where to write the JSON report.")
  Path out;

  @Override
  public Integer call() throws Exception {
    Nd4jThreads.applyConfigured();
    IngestBenchmark bench = new IngestBenchmark(new IngestBenchmark.Options(events, users,
        partitions, bootstrapServers, seed, commitIntervalMs, streamsCacheBytes),
        EngineModels.load(model), System.out);
    Map<String, Object> report = bench.run();
    System.out.println();
    System.out.print(IngestBenchmark.table(report));
    if (out != null) {
      BenchAttentionCommand.writeJson(out, report);
      System.out.println("wrote " + out.toAbsolutePath());
    }
    return 0;
  }
}
