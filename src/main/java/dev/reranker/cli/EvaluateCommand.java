package dev.reranker.cli;

import dev.reranker.attention.Nd4jThreads;
import dev.reranker.model.Arm;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.training.EvaluationRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code evaluate}: leave-one-out test metrics of a saved model, with the popularity baseline. */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
    description = "Evaluate a saved model on a dataset (leave-one-out; full ranking and SASRec's "
        + "sampled protocol), next to a popularity baseline; write JSON and a markdown table.")
final class EvaluateCommand implements Callable<Integer> {

  @Option(names = "--model", required = true, description = "Model artifact directory.")
  Path model;

  @Mixin
  DataOptions data;

  @Option(names = "--max-lengths", split = ",",
      description = "Input window lengths to evaluate at (default: 200 for softmax models, "
          + "200,2048 for Performer models).")
  List<Integer> lengths;

  @Option(names = "--seed", defaultValue = "42",
      description = "Seed of the sampled protocol (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--out", description = "Where to write the JSON report (a .md table beside it).")
  Path out;

  @Override
  public Integer call() throws Exception {
    Nd4jThreads.applyConfigured();
    ModelArtifacts.TrainedModel trained = ModelArtifacts.load(model);
    List<Integer> windows = lengths != null ? lengths
        : trained.config().arm() == Arm.PERFORMER ? List.of(200, 2048) : List.of(200);
    for (int l : windows) {
      if (l < 1) {
        throw new IllegalArgumentException("--max-lengths must be ≥ 1, got " + l);
      }
    }
    Map<String, Object> report = EvaluationRun.run(trained, data.source(), windows, seed,
        System.out);
    if (out != null) {
      BenchAttentionCommand.writeJson(out, report);
      String name = out.getFileName().toString();
      Path markdown = out.resolveSibling((name.endsWith(".json") ? name.substring(0,
          name.length() - 5) : name) + ".md");
      Files.writeString(markdown, (String) report.get("markdown"));
      System.out.println("wrote " + out.toAbsolutePath() + " and " + markdown.getFileName());
    }
    return 0;
  }
}
