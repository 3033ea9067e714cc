package dev.reranker.cli;

import dev.reranker.attention.Nd4jThreads;
import dev.reranker.bench.SoakBenchmark;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bench soak}: rerank load and ingestion together for minutes; memory, GC, latency. */
@Command(name = "soak", mixinStandardHelpOptions = true,
    description = "Start the service in-process and drive paced rerank requests and events for "
        + "--minutes, sampling RSS, heap after GC, live heap, native memory, GC pauses, p99 and "
        + "errors every --sample-seconds; prints a table, writes JSON, CSV and an SVG plot. "
        + "Arguments starting with -- that are not options here go to the service.")
final class BenchSoakCommand implements Callable<Integer> {

  @Option(names = "--minutes", defaultValue = "10",
      description = "How long the load runs (default: ${DEFAULT-VALUE}).")
  double minutes;

  @Option(names = "--sample-seconds", defaultValue = "10",
      description = "Seconds per sample (default: ${DEFAULT-VALUE}).")
  int sampleSeconds;

  @Option(names = "--users", defaultValue = "20000",
      description = "Users drawn from (default: ${DEFAULT-VALUE}; more than the cache holds).")
  int users;

  @Option(names = "--events-per-second", defaultValue = "400",
      description = "Events produced per second (default: ${DEFAULT-VALUE}).")
  int eventsPerSecond;

  @Option(names = "--requests-per-second", defaultValue = "200",
      description = "Rerank requests per second, all clients together (default: "
          + "${DEFAULT-VALUE}).")
  int requestsPerSecond;

  @Option(names = "--threads", defaultValue = "4",
      description = "Client threads (default: ${DEFAULT-VALUE}).")
  int threads;

  @Option(names = "--candidates", defaultValue = "200",
      description = "Candidates per request (default: ${DEFAULT-VALUE}).")
  int candidates;

  @Option(names = "--cache-mb", defaultValue = "64",
      description = "The state cache's budget, MiB (default: ${DEFAULT-VALUE}).")
  long cacheMb;

  @Option(names = "--rocksdb-mb", defaultValue = "128",
      description = "RocksDB's memory for all stores together, MiB (default: ${DEFAULT-VALUE}).")
  long rocksdbMb;

  @Option(names = "--preload-events-per-user", defaultValue = "10",
      description = "Events every user gets before the measurement (default: ${DEFAULT-VALUE}).")
  int preload;

  @Option(names = "--seed", defaultValue = "42", description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--out", description = "Where to write the JSON report.")
  Path out;

  @Option(names = "--csv", description = "Where to write the samples as CSV.")
  Path csv;

  @Option(names = "--svg", description = "Where to write the plot (SVG).")
  Path svg;

  @picocli.CommandLine.Unmatched
  List<String> springArguments = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    Nd4jThreads.applyConfigured();
    SoakBenchmark bench = new SoakBenchmark(new SoakBenchmark.Options(minutes, sampleSeconds,
        users, eventsPerSecond, requestsPerSecond, threads, candidates, cacheMb << 20, preload,
        rocksdbMb << 20, seed, springArguments), System.out);
    Map<String, Object> report = bench.run();
    System.out.println();
    System.out.print(SoakBenchmark.table(report));
    if (out != null) {
      BenchAttentionCommand.writeJson(out, report);
      System.out.println("wrote " + out.toAbsolutePath());
    }
    List<SoakBenchmark.Sample> samples = SoakBenchmark.samples(report);
    if (csv != null) {
      write(csv, SoakBenchmark.csv(samples));
    }
    if (svg != null) {
      write(svg, SoakBenchmark.svg(samples, String.format(java.util.Locale.ROOT,
          "bench soak: %.0f min, %d req/s + %d events/s, cache %d MiB", minutes,
          requestsPerSecond, eventsPerSecond, cacheMb)));
    }
    return 0;
  }

  private static void write(Path p, String text) throws java.io.IOException {
    if (p.toAbsolutePath().getParent() != null) {
      Files.createDirectories(p.toAbsolutePath().getParent());
    }
    Files.writeString(p, text, StandardCharsets.UTF_8);
    System.out.println("wrote " + p.toAbsolutePath());
  }
}
