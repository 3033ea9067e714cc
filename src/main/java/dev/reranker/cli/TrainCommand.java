package dev.reranker.cli;

import dev.reranker.attention.FavorProjection;
import dev.reranker.attention.FeatureMap;
import dev.reranker.attention.Nd4jThreads;
import dev.reranker.model.Arm;
import dev.reranker.model.ModelConfig;
import dev.reranker.training.TrainingConfig;
import dev.reranker.training.TrainingRun;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code train}: trains a model and saves a versioned artifact. */
@Command(name = "train", mixinStandardHelpOptions = true,
    description = "Train a sequential recommender (Performer or softmax attention) in Java, "
        + "evaluate it on the leave-one-out test split and save a versioned model artifact.")
final class TrainCommand implements Callable<Integer> {

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Mixin
  DataOptions data;

  @Option(names = "--attention", defaultValue = "performer",
      description = "performer (FAVOR+) or softmax (default: ${DEFAULT-VALUE}).")
  String attention;

  @Option(names = "--kernel", defaultValue = "softmax",
      description = "FAVOR+ kernel: softmax or relu (default: ${DEFAULT-VALUE}).")
  FeatureMap.Kernel kernel;

  @Option(names = {"--features", "-m"}, defaultValue = "64",
      description = "FAVOR+ random features per head (default: ${DEFAULT-VALUE}).")
  int features;

  @Option(names = "--dim", defaultValue = "64", description = "Model width (default: ${DEFAULT-VALUE}).")
  int dim;

  @Option(names = "--layers", defaultValue = "2", description = "Blocks (default: ${DEFAULT-VALUE}).")
  int layers;

  @Option(names = "--heads", defaultValue = "2", description = "Heads (default: ${DEFAULT-VALUE}).")
  int heads;

  @Option(names = "--dropout", defaultValue = "0.3",
      description = "Dropout in training (default: ${DEFAULT-VALUE}).")
  double dropout;

  @Option(names = "--epochs", defaultValue = "200",
      description = "At most this many epochs (default: ${DEFAULT-VALUE}).")
  int epochs;

  @Option(names = "--patience", defaultValue = "20",
      description = "Early stop after this many epochs without a better validation NDCG@10 "
          + "; the learning rate halves after half as many (default: ${DEFAULT-VALUE}).")
  int patience;

  @Option(names = "--batch", defaultValue = "16",
      description = "Windows per step (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--max-batch-positions", defaultValue = "0",
      description = "At most this many positions a step (fewer windows when they are long; "
          + "0 = only --batch counts) (default: ${DEFAULT-VALUE}).")
  int maxBatchPositions;

  @Option(names = "--lr", defaultValue = "3e-3",
      description = "AdamW learning rate (default: ${DEFAULT-VALUE}).")
  double learningRate;

  @Option(names = "--weight-decay", defaultValue = "0",
      description = "AdamW weight decay on weight matrices (default: ${DEFAULT-VALUE}).")
  double weightDecay;

  @Option(names = "--clip", defaultValue = "1.0",
      description = "Global gradient-norm clip, ≤ 0 off (default: ${DEFAULT-VALUE}).")
  double clip;

  @Option(names = "--negatives", defaultValue = "0",
      description = "0: full-catalogue softmax; K: sampled softmax with K negatives "
          + "(default: ${DEFAULT-VALUE}).")
  int negatives;

  @Option(names = "--max-length", defaultValue = "200",
      description = "Training window length (default: ${DEFAULT-VALUE}).")
  int maxLength;

  @Option(names = "--last-window-only",
      description = "Train only on each user's last window (SASRec) instead of the whole history.")
  boolean lastWindowOnly;

  @Option(names = "--seed", defaultValue = "42", description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--threads", description = "Data-parallel training threads (default: the "
      + "machine's cores). The same seed and thread count give the same model bit for bit.")
  Integer threads;

  @Option(names = "--out", required = true, description = "Artifact directory to write "
      + "(the model, and training.json: speed, roofline fraction, time to the best epoch).")
  Path out;

  @Override
  public Integer call() throws Exception {
    if (threads != null && (threads < 1 || threads > TrainingConfig.MAX_THREADS)) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--threads must be in "
          + "[1, " + TrainingConfig.MAX_THREADS + "], got " + threads);
    }
    Nd4jThreads.applyConfigured();
    ModelConfig architecture = ModelConfig.builder(1, Arm.parse(attention)).dim(dim).layers(layers)
        .heads(heads).ffnDim(4 * dim).kernel(kernel).features(features)
        .rowNorms(FavorProjection.RowNorms.CHI).chunk(256).dropout(dropout).seed(seed).build();
    TrainingConfig training = TrainingConfig.builder().epochs(epochs).batchSize(batch)
        .learningRate(learningRate).weightDecay(weightDecay).clipNorm(clip).negatives(negatives)
        .maxLength(maxLength).wholeHistory(!lastWindowOnly).patience(patience).seed(seed)
        .threads(threads != null ? threads : Math.min(TrainingConfig.MAX_THREADS,
            Runtime.getRuntime().availableProcessors())).maxBatchPositions(maxBatchPositions)
        .build();
    TrainingRun.run(data.source(), architecture, training, out, System.out,
        System.console() != null);
    return 0;
  }
}
