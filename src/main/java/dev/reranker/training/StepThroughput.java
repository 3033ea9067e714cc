package dev.reranker.training;

import dev.reranker.model.Batch;
import dev.reranker.model.ModelConfig;
import dev.reranker.model.ModelWeights;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The training step's speed on synthetic windows, the step {@link Trainer} runs (data-parallel
 * forward, loss and backward, then AdamW), timed step by step: what {@code bench training}
 * compares across thread counts and catalogue sizes. The windows are full ({@code length} events
 * each, items uniform over the catalogue), so every step does the same work.
 */
public final class StepThroughput {
  private StepThroughput() {}

  /**
   * One measurement.
   *
   * @param eventsPerSecond training positions per second of whole steps (median step)
   * @param flopsPerEvent the trainer's FLOP estimate per position (forward + backward)
   * @param sgemmGflops the machine's sgemm rate on {@code threads} threads at once, same run
   * @param gradientMs median ms per step of the forward, loss and backward passes (all shards)
   * @param optimizerMs median ms per step of AdamW over every parameter
   */
  public record Measurement(int threads, int items, int negatives, int batch, int length,
      int steps, double eventsPerSecond, double flopsPerEvent, double achievedGflops,
      double sgemmGflops, double gradientMs, double optimizerMs) {
    public double sgemmFraction() {
      return achievedGflops / sgemmGflops;
    }
  }

  /**
   * Runs {@code warmUp} untimed steps, then {@code steps} timed ones.
   *
   * @param config the model (its item count is the catalogue)
   * @param training batch size, negatives (0: full softmax), threads, seed
   * @param length events per window
   */
  public static Measurement measure(ModelConfig config, TrainingConfig training, int length,
      int warmUp, int steps) {
    List<LeaveOneOut.TrainSequence> batch = fullWindows(config, training, length);
    ModelWeights weights = ModelWeights.initialize(config);
    ModelWeights grads = weights.zerosLike();
    AdamW optimizer = new AdamW(weights, grads, training.weightDecay(), training.clipNorm());
    Trainer trainer = new Trainer(config, training, new PrintStream(
        OutputStream.nullOutputStream()), false);
    SplittableRandom negatives = new SplittableRandom(training.seed() + 2);
    boolean full = training.fullSoftmax(config.items());
    double[] stepNanos = new double[steps];
    double[] gradientNanos = new double[steps];
    double[] optimizerNanos = new double[steps];
    try (DataParallelStep step = new DataParallelStep(config, weights, grads, training)) {
      for (int i = -warmUp; i < steps; i++) {
        long start = System.nanoTime();
        step.lossAndGradients(batch, full ? null : trainer.sampleNegatives(negatives));
        long middle = System.nanoTime();
        step.update(optimizer, 1e-4);
        long end = System.nanoTime();
        if (i >= 0) {
          stepNanos[i] = end - start;
          gradientNanos[i] = middle - start;
          optimizerNanos[i] = end - middle;
        }
      }
    }
    double sgemm = SgemmProbe.gflops(512, 5, training.threads());
    long positions = (long) training.batchSize() * length;
    double eventsPerSecond = positions / (median(stepNanos) / 1e9);
    double flops = trainer.flopsPerEvent(length);
    return new Measurement(training.threads(), config.items(), full ? 0 : training.negatives(),
        training.batchSize(), length, steps, eventsPerSecond, flops,
        eventsPerSecond * flops / 1e9, sgemm, median(gradientNanos) / 1e6,
        median(optimizerNanos) / 1e6);
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  /** The batch of a measured step: full windows of {@code length} uniform items, seeded. */
  static List<LeaveOneOut.TrainSequence> fullWindows(ModelConfig config, TrainingConfig training,
      int length) {
    SplittableRandom random = new SplittableRandom(training.seed());
    List<LeaveOneOut.TrainSequence> batch = new ArrayList<>();
    for (int s = 0; s < training.batchSize(); s++) {
      int[] items = new int[length + 1];
      long[] times = new long[length + 1];
      for (int i = 0; i <= length; i++) {
        items[i] = random.nextInt(config.items());
        times[i] = 1_700_000_000_000L + i * 60_000L;
      }
      Batch.Window window = Batch.Window.lastEvents(items, times, length, length);
      batch.add(new LeaveOneOut.TrainSequence(window, Arrays.copyOfRange(items, 1, length + 1)));
    }
    return batch;
  }
}
