package dev.reranker.cli;

import dev.reranker.attention.Nd4jThreads;
import dev.reranker.bench.TrainingMemoryBenchmark;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bench training-memory}: a training step's working memory per arm and window length. */
@Command(name = "training-memory", mixinStandardHelpOptions = true,
    description = "A training step's working memory (the bytes it allocates in its arena) and "
        + "time per arm at growing window lengths; an arm stops at the first length that runs "
        + "out of memory or takes longer than --max-step-seconds.")
final class BenchTrainingMemoryCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--lengths", split = ",", defaultValue = "200,1024,2048,8192,32768",
      description = "Window lengths, increasing (default: ${DEFAULT-VALUE}).")
  List<Integer> lengths;

  @Option(names = "--batch", defaultValue = "1",
      description = "Windows per step (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--items", defaultValue = "3000",
      description = "Catalogue size (default: ${DEFAULT-VALUE}).")
  int items;

  @Option(names = "--max-step-seconds", defaultValue = "120",
      description = "A step longer than this ends the arm's lengths (default: ${DEFAULT-VALUE}).")
  double maxStepSeconds;

  @Option(names = "--warm-up-steps", defaultValue = "1",
      description = "Steps before the measured one (default: ${DEFAULT-VALUE}).")
  int warmUpSteps;

  @Option(names = "--seed", defaultValue = "42", description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--out", description = "Where to write the JSON report.")
  Path out;

  @Override
  public Integer call() throws Exception {
    PrintWriter stdout = spec.commandLine().getOut();
    for (int i = 0; i < lengths.size(); i++) {
      if (lengths.get(i) < 2 || (i > 0 && lengths.get(i) <= lengths.get(i - 1))) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--lengths must be ≥ 2 and "
            + "increasing, got " + lengths);
      }
    }
    if (batch < 1 || items < 2 || !(maxStepSeconds > 0) || warmUpSteps < 0) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--batch ≥ 1, --items ≥ 2, "
          + "--max-step-seconds > 0 and --warm-up-steps ≥ 0");
    }
    Nd4jThreads.applyConfigured();
    stdout.printf("bench training-memory: windows %s, batch %d, %,d items, one thread%n", lengths,
        batch, items);
    stdout.flush();
    Map<String, Object> report = new TrainingMemoryBenchmark(new TrainingMemoryBenchmark.Options(
        lengths, batch, items, maxStepSeconds, warmUpSteps, seed), System.out).run();
    stdout.println();
    stdout.print(TrainingMemoryBenchmark.table(report));
    if (out != null) {
      BenchAttentionCommand.writeJson(out, report);
      stdout.println("wrote " + out.toAbsolutePath());
    }
    stdout.flush();
    return 0;
  }
}
