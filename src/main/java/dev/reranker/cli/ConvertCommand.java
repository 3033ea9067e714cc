package dev.reranker.cli;

import dev.reranker.attention.Nd4jThreads;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.training.ConversionRun;
import dev.reranker.training.TrainingConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code convert}: a Performer from a softmax-trained model, zero-shot and fine-tuned. */
@Command(name = "convert", mixinStandardHelpOptions = true,
    description = "Make a Performer model from a softmax-trained one: the same weights plus "
        + "freshly drawn, then fixed, FAVOR+ projections. Evaluates it zero-shot on the test split "
        + "and, unless --fine-tune-share is 0, after a fine-tune of at most that share of the "
        + "parent's training steps; saves OUT/zero-shot, OUT/fine-tuned and OUT/convert.json.")
final class ConvertCommand implements Callable<Integer> {

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--model", required = true, description = "The softmax model's directory.")
  Path model;

  @Mixin
  DataOptions data;

  @Option(names = {"--features", "-m"}, defaultValue = "64",
      description = "FAVOR+ random features per head (default: ${DEFAULT-VALUE}).")
  int features;

  @Option(names = "--seed", defaultValue = "7",
      description = "Seed of the projections and of the fine-tune (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--fine-tune-share", defaultValue = "0.1",
      description = "Fine-tune epochs as a share of the parent's epochs, rounded down, at least "
          + "one; 0: zero-shot only (default: ${DEFAULT-VALUE}).")
  double fineTuneShare;

  @Option(names = "--fine-tune-lr", defaultValue = "1e-3",
      description = "The fine-tune's AdamW learning rate (default: ${DEFAULT-VALUE}).")
  double fineTuneLr;

  @Option(names = "--control",
      description = "Also fine-tune the softmax parent itself with the same budget and settings, "
          + "and report the conversion against it: the control for the fine-tune's extra "
          + "training (costs a second fine-tune).")
  boolean control;

  @Option(names = "--threads", description = "Data-parallel fine-tune threads (default: the "
      + "machine's cores).")
  Integer threads;

  @Option(names = "--out", required = true, description = "Output directory.")
  Path out;

  @Override
  public Integer call() throws Exception {
    if (features < 1) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(),
          "--features must be ≥ 1, got " + features);
    }
    if (!(fineTuneShare >= 0 && fineTuneShare <= 1)) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(),
          "--fine-tune-share must be in [0, 1], got " + fineTuneShare);
    }
    if (control && fineTuneShare == 0) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(),
          "--control fine-tunes the parent alike: it needs --fine-tune-share > 0");
    }
    int workers = threads != null ? threads : Math.min(TrainingConfig.MAX_THREADS,
        Runtime.getRuntime().availableProcessors());
    if (workers < 1 || workers > TrainingConfig.MAX_THREADS) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(),
          "--threads must be in [1, " + TrainingConfig.MAX_THREADS + "], got " + workers);
    }
    Nd4jThreads.applyConfigured();
    ConversionRun.Result r = ConversionRun.run(ModelArtifacts.load(model), data.source(),
        features, seed, fineTuneShare, fineTuneLr, control, workers, out, System.out);
    System.out.println("wrote " + r.zeroShot() + (r.fineTuned() != null ? ", " + r.fineTuned()
        : "") + " and " + out.resolve("convert.json"));
    return 0;
  }
}
