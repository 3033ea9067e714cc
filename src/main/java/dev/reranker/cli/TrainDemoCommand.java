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
 * one training thread and one ND4J thread: the same weights, hence the same content-addressed
 * model versions — on the same kind of CPU (ND4J's BLAS rounds differently on another: on an Intel
 * Xeon the recipe gives other versions than the bundled ones, made on an AMD EPYC).
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
      ModelConfig architecture = ModelConfig.builder(1, arm).dim(DIM).layers(2).heads(2)
          .ffnDim(4 * DIM).kernel(FeatureMap.Kernel.SOFTMAX).features(FEATURES)
          .rowNorms(FavorProjection.RowNorms.CHI).chunk(256).dropout(DROPOUT).seed(42).build();
      TrainingConfig training = TrainingConfig.builder().epochs(EPOCHS).batchSize(16)
          .learningRate(3e-3).weightDecay(0).clipNorm(1.0).negatives(0).maxLength(200)
          .wholeHistory(true).patience(EPOCHS).seed(42).threads(1).build();
      TrainingRun.run(data, architecture, training, outDir.resolve("demo-" + arm.wireName()),
          System.out, System.console() != null, false);
    }
    return 0;
  }
}
