package dev.reranker.cli;

import dev.reranker.attention.Nd4jThreads;
import dev.reranker.bench.RerankBenchmark;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bench rerank}: HTTP reranking throughput against in-process calls, per arm. */
@Command(name = "rerank", mixinStandardHelpOptions = true,
    description = "Start the service in-process, load users through Kafka, then measure "
        + "POST /v1/rerank on loopback and the same scoring called in-process, per arm. "
        + "Arguments starting with -- that are not options here go to the service (Spring "
        + "properties).")
final class BenchRerankCommand implements Callable<Integer> {

  @Option(names = "--candidates", defaultValue = "500",
      description = "Candidates per request (default: ${DEFAULT-VALUE}).")
  int candidates;

  @Option(names = "--seconds", defaultValue = "30",
      description = "Seconds per measured phase (default: ${DEFAULT-VALUE}).")
  int seconds;

  @Option(names = "--threads", defaultValue = "8",
      description = "Concurrent clients (default: ${DEFAULT-VALUE}).")
  int threads;

  @Option(names = "--users", defaultValue = "1000",
      description = "Users with histories (default: ${DEFAULT-VALUE}).")
  int users;

  @Option(names = "--seed", defaultValue = "42", description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--max-warm-up-rounds", defaultValue = "8",
      description = "Warm-up rounds (3 s per path and arm each) at most; the warm-up ends earlier "
          + "once HTTP rates settle within 10 %% (default: ${DEFAULT-VALUE}).")
  int maxWarmUpRounds;

  @Option(names = "--out", description = "Where to write the JSON report.")
  Path out;

  @Option(names = "--freshness-only", paramLabel = "RPS",
      description = "Run only the freshness phase, under this many rerank requests a second "
          + "(the full run uses half the performer arm's measured saturation rate).")
  Double freshnessOnlyRps;

  /** Spring arguments for the service under test ({@code --server.tomcat.threads.max=16}, …). */
  @picocli.CommandLine.Unmatched
  List<String> springArguments = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    Nd4jThreads.applyConfigured();
    RerankBenchmark bench = new RerankBenchmark(new RerankBenchmark.Options(candidates, seconds,
        threads, users, seed, maxWarmUpRounds, springArguments), System.out);
    if (freshnessOnlyRps != null) {
      Map<String, Object> report = bench.freshnessOnly(freshnessOnlyRps);
      if (out != null) {
        BenchAttentionCommand.writeJson(out, report);
        System.out.println("wrote " + out.toAbsolutePath());
      }
      return 0;
    }
    Map<String, Object> report = bench.run();
    System.out.println();
    System.out.print(RerankBenchmark.table(report));
    if (out != null) {
      BenchAttentionCommand.writeJson(out, report);
      System.out.println("wrote " + out.toAbsolutePath());
    }
    return 0;
  }
}
