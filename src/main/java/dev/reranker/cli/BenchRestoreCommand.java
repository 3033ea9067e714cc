package dev.reranker.cli;

import dev.reranker.attention.Nd4jThreads;
import dev.reranker.bench.RestoreBenchmark;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bench restore}: store and record sizes, and the restore of a lost partition. */
@Command(name = "restore", mixinStandardHelpOptions = true,
    description = "Ingest users' histories into one partition, measure the RocksDB bytes per "
        + "retained event, the changelog bytes and the exposure record size, then delete the "
        + "state directory and measure the restore from the changelogs until readiness.")
final class BenchRestoreCommand implements Callable<Integer> {

  @Option(names = "--users", defaultValue = "2000",
      description = "Users (default: ${DEFAULT-VALUE}).")
  int users;

  @Option(names = "--events-per-user", defaultValue = "250",
      description = "Events per user (default: ${DEFAULT-VALUE}).")
  int eventsPerUser;

  @Option(names = "--requests", defaultValue = "500",
      description = "Rerank requests (k = 10) before the stop, for the exposure records "
          + "(default: ${DEFAULT-VALUE}).")
  int requests;

  @Option(names = "--seed", defaultValue = "42", description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--out", description = "Where to write the JSON report.")
  Path out;

  @Override
  public Integer call() throws Exception {
    Nd4jThreads.applyConfigured();
    Map<String, Object> report = new RestoreBenchmark(new RestoreBenchmark.Options(users,
        eventsPerUser, requests, seed), System.out).run();
    System.out.println();
    System.out.print(RestoreBenchmark.table(report));
    if (out != null) {
      BenchAttentionCommand.writeJson(out, report);
      System.out.println("wrote " + out.toAbsolutePath());
    }
    return 0;
  }
}
