package dev.reranker.cli;

import dev.reranker.attention.FavorProjection;
import dev.reranker.attention.FeatureMap;
import dev.reranker.attention.Nd4jThreads;
import dev.reranker.data.DataSource;
import dev.reranker.data.InteractionReaders;
import dev.reranker.model.Arm;
import dev.reranker.model.ModelConfig;
import dev.reranker.training.TrainingConfig;
import dev.reranker.training.TrainingRun;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code train-demo}: reproduces the two demo models bundled in the jar (one per arm), trained on
 * the synthetic generator's {@code synthetic:demo} data with a fixed recipe. Same seed, same data,
 * one ND4J thread: the same weights, hence the same content-addressed model versions.
 */
@Command(name = "train-demo", mixinStandardHelpOptions = true,
    description = "Reproduce the bundled demo models (performer and softmax) from synthetic data.")
final class TrainDemoCommand implements Callable<Integer> {

  /** The recipe: small models, light dropout, no early stop (the best validation epoch is kept). */
  static final int DIM = 32;
  static final int FEATURES = 32;
  static final double DROPOUT = 0.1;
  static final int EPOCHS = 60;

  @Option(names = "--out-dir", defaultValue = "src/main/resources/models",
      description = "Where demo-performer/ and demo-softmax/ are written (default: "
          + "${DEFAULT-VALUE}).")
  Path outDir;

  @Override
  public Integer call() throws Exception {
    Nd4jThreads.applyConfigured();
    DataSource data = new DataSource("synthetic:demo", InteractionReaders.Format.JSONL, 0);
    for (Arm arm : Arm.values()) {
      ModelConfig architecture = new ModelConfig(1, DIM, 2, 2, 4 * DIM, arm,
          FeatureMap.Kernel.SOFTMAX, FEATURES, FavorProjection.RowNorms.CHI, 256, DROPOUT, 42);
      TrainingConfig training = new TrainingConfig(EPOCHS, 16, 3e-3, 0, 1.0, 0, 200, true,
          EPOCHS, 42);
      TrainingRun.run(data, architecture, training, outDir.resolve("demo-" + arm.wireName()),
          System.out, System.console() != null);
    }
    return 0;
  }
}
