package dev.reranker.cli;

import dev.reranker.attention.FavorProjection;
import dev.reranker.attention.FeatureMap;
import dev.reranker.attention.Nd4jThreads;
import dev.reranker.bench.LengthGridPlot;
import dev.reranker.bench.Machine;
import dev.reranker.model.Arm;
import dev.reranker.model.ModelConfig;
import dev.reranker.training.LengthGrid;
import dev.reranker.training.TrainingConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code bench lengths}: training window × input length, both arms, seeds, bootstrap CIs. */
@Command(name = "lengths", mixinStandardHelpOptions = true,
    description = "Does reading longer histories pay? Trains each arm at each training window and "
        + "seed, evaluates each model at each input length on the leave-one-out test split, and "
        + "reports HR@10/NDCG@10 with 95%% bootstrap intervals over users (seeds averaged per "
        + "user), the Performer reading whole histories against softmax at 200 (paired, on all "
        + "test users and on those with more than 200 events), a markdown table and an SVG plot. "
        + "Trained models are kept in --models-dir and reused: a stopped grid resumes.")
final class BenchLengthsCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Mixin
  DataOptions data;

  @Option(names = "--arms", split = ",", defaultValue = "performer,softmax",
      description = "Arms (default: ${DEFAULT-VALUE}).")
  List<String> arms;

  @Option(names = "--train-windows", split = ",", defaultValue = "50,200,1000,whole",
      description = "Training windows; whole = every user's whole history (default: "
          + "${DEFAULT-VALUE}).")
  List<String> trainWindows;

  @Option(names = "--lengths", split = ",", defaultValue = "50,200,1000,whole",
      description = "Events read at evaluation; whole = all (default: ${DEFAULT-VALUE}).")
  List<String> lengths;

  @Option(names = "--seeds", split = ",", defaultValue = "1,2,3",
      description = "Seeds of the weights, projections, batches and dropout (default: "
          + "${DEFAULT-VALUE}).")
  List<Long> seeds;

  @Option(names = "--dim", defaultValue = "64", description = "Model width (default: ${DEFAULT-VALUE}).")
  int dim;

  @Option(names = {"--features", "-m"}, defaultValue = "64",
      description = "FAVOR+ features per head (default: ${DEFAULT-VALUE}).")
  int features;

  @Option(names = "--dropout", defaultValue = "0.3",
      description = "Dropout (default: ${DEFAULT-VALUE}).")
  double dropout;

  @Option(names = "--epochs", defaultValue = "200",
      description = "Most epochs per model (default: ${DEFAULT-VALUE}).")
  int epochs;

  @Option(names = "--patience", defaultValue = "20",
      description = "Early-stopping patience (default: ${DEFAULT-VALUE}).")
  int patience;

  @Option(names = "--batch", defaultValue = "16", description = "Windows per step (default: "
      + "${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--max-batch-positions", defaultValue = "3200",
      description = "At most this many positions a step (fewer windows when they are long; "
          + "0 = only --batch counts) (default: ${DEFAULT-VALUE}).")
  int maxBatchPositions;

  @Option(names = "--threads", description = "Training threads (default: the machine's cores).")
  Integer threads;

  @Option(names = "--softmax-max-window", defaultValue = "1000",
      description = "The longest window the softmax arm trains at (quadratic attention); longer "
          + "ones are skipped and reported (default: ${DEFAULT-VALUE}).")
  int softmaxMaxWindow;

  @Option(names = "--models-dir", defaultValue = "target/length-grid/models",
      description = "Where trained models are kept and reused (default: ${DEFAULT-VALUE}).")
  Path modelsDir;

  @Option(names = "--out", description = "Where to write the JSON report (a .md table and a .svg "
      + "plot beside it).")
  Path out;

  @Override
  public Integer call() throws Exception {
    List<Arm> armList = new ArrayList<>();
    for (String a : arms) {
      armList.add(Arm.parse(a));
    }
    int workers = threads != null ? threads : Runtime.getRuntime().availableProcessors();
    if (workers < 1 || workers > TrainingConfig.MAX_THREADS || epochs < 1 || patience < 1
        || batch < 1 || seeds.isEmpty()) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--threads must be in [1, "
          + TrainingConfig.MAX_THREADS + "]; --epochs, --patience, --batch ≥ 1; --seeds given");
    }
    Nd4jThreads.applyConfigured();
    ModelConfig architecture = ModelConfig.builder(1, Arm.PERFORMER).dim(dim).ffnDim(4 * dim)
        .kernel(FeatureMap.Kernel.SOFTMAX).features(features)
        .rowNorms(FavorProjection.RowNorms.CHI).dropout(dropout).build();
    TrainingConfig training = TrainingConfig.builder().epochs(epochs).patience(patience)
        .batchSize(batch).threads(workers).maxBatchPositions(maxBatchPositions).build();
    LengthGrid.Options options;
    try {
      options = new LengthGrid.Options(armList, parse(trainWindows), parse(lengths), seeds,
          architecture, training, modelsDir, softmaxMaxWindow);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    Map<String, Object> report = LengthGrid.run(data.source(), options, System.out);
    // the training environment stays; the machine block is every benchmark's (README provenance)
    report.put("environment", report.get("machine"));
    report.put("machine", Machine.describe());
    System.out.println();
    System.out.print(report.get("markdown"));
    System.out.println("comparison: " + tools.jackson.databind.json.JsonMapper.builder().build()
        .writeValueAsString(report.get("comparison")));
    if (out != null) {
      BenchAttentionCommand.writeJson(out, report);
      String name = out.getFileName().toString();
      String stem = name.endsWith(".json") ? name.substring(0, name.length() - 5) : name;
      Files.writeString(out.resolveSibling(stem + ".md"), (String) report.get("markdown"));
      @SuppressWarnings("unchecked")
      List<Map<String, Object>> cells = (List<Map<String, Object>>) report.get("cells");
      Files.writeString(out.resolveSibling(stem + ".svg"), LengthGridPlot.svg(cells,
          "NDCG@10 by events read, per arm and training window (" + data.data + ")"));
      System.out.println("wrote " + out.toAbsolutePath() + ", " + stem + ".md and " + stem
          + ".svg");
    }
    return 0;
  }

  private List<Integer> parse(List<String> values) {
    List<Integer> out = new ArrayList<>();
    for (String v : values) {
      String s = v.trim().toLowerCase(Locale.ROOT);
      try {
        out.add(s.equals("whole") ? 0 : Integer.parseInt(s));
      } catch (NumberFormatException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), "a length must be a number "
            + "or 'whole', got '" + v + "'");
      }
      if (out.get(out.size() - 1) < 0 || (!s.equals("whole") && out.get(out.size() - 1) == 0)) {
        throw new CommandLine.ParameterException(spec.commandLine(), "a length must be ≥ 1 or "
            + "'whole', got '" + v + "'");
      }
    }
    return out;
  }
}
