package dev.reranker.cli;

import dev.reranker.attention.Nd4jThreads;
import dev.reranker.bench.TrainingBenchmark;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bench training}: the training step across thread counts and catalogue sizes. */
@Command(name = "training", mixinStandardHelpOptions = true,
    description = "Training step events/s per arm on one thread and on every core (scaling "
        + "efficiency), with sampled softmax over a small and a large catalogue, each against the "
        + "sgemm rate measured on the same threads in the same run.")
final class BenchTrainingCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--threads", description = "Threads set against one (default: the machine's "
      + "cores).")
  Integer threads;

  @Option(names = "--length", defaultValue = "200",
      description = "Events per training window (default: ${DEFAULT-VALUE}).")
  int length;

  @Option(names = "--batch", defaultValue = "16",
      description = "Windows per step (default: ${DEFAULT-VALUE}, train's default).")
  int batch;

  @Option(names = "--negatives", defaultValue = "512",
      description = "Sampled negatives of the catalogue rows (default: ${DEFAULT-VALUE}).")
  int negatives;

  @Option(names = "--small-catalogue", defaultValue = "3000",
      description = "Items of the scaling rows and the small catalogue (default: ${DEFAULT-VALUE}).")
  int smallCatalogue;

  @Option(names = "--large-catalogue", defaultValue = "100000",
      description = "Items of the large catalogue (default: ${DEFAULT-VALUE}).")
  int largeCatalogue;

  @Option(names = "--steps", defaultValue = "20",
      description = "Timed steps per row; the median step is reported (default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--warm-up-steps", defaultValue = "4",
      description = "Untimed steps first (default: ${DEFAULT-VALUE}).")
  int warmUpSteps;

  @Option(names = "--seed", defaultValue = "42", description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--out", description = "Where to write the JSON report.")
  Path out;

  @Override
  public Integer call() throws Exception {
    PrintWriter stdout = spec.commandLine().getOut();
    Nd4jThreads.applyConfigured();
    int n = threads != null ? threads : Runtime.getRuntime().availableProcessors();
    if (n < 2 || length < 2 || batch < 1 || negatives < 1 || steps < 1 || warmUpSteps < 0
        || smallCatalogue < 2 || largeCatalogue < 2) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--threads must be ≥ 2 (one "
          + "thread is the baseline), --length ≥ 2, catalogues ≥ 2, --batch, --negatives and "
          + "--steps ≥ 1");
    }
    stdout.printf("bench training: window %d, batch %d, 1 and %d threads, %,d and %,d items, "
        + "%d negatives%n", length, batch, n, smallCatalogue, largeCatalogue, negatives);
    stdout.flush();
    TrainingBenchmark benchmark = new TrainingBenchmark(new TrainingBenchmark.Options(length,
        batch, negatives, smallCatalogue, largeCatalogue, n, warmUpSteps, steps, seed),
        System.out);
    Map<String, Object> report = benchmark.run();
    stdout.println();
    stdout.print(TrainingBenchmark.table(report));
    if (out != null) {
      BenchAttentionCommand.writeJson(out, report);
      stdout.println("wrote " + out.toAbsolutePath());
    }
    stdout.flush();
    return 0;
  }
}
