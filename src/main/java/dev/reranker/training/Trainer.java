package dev.reranker.training;

import dev.reranker.data.Dataset;
import dev.reranker.model.Arm;
import dev.reranker.model.ModelConfig;
import dev.reranker.model.ModelWeights;
import dev.reranker.model.SequenceModel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Trains a {@link SequenceModel} on a dataset's leave-one-out training part: softmax next-item
 * loss at every position ({@link NextItemLoss}), AdamW, early stopping on validation NDCG@10 (full
 * ranking), keeping the best weights.
 *
 * <p>Reproducible: the same data, model config and training config (thread count included) give
 * the same weights bit for bit (one ND4J thread per op; batch order, negatives and dropout all
 * drawn from seeds). Each step runs data-parallel over {@link TrainingConfig#threads()} workers
 * ({@link DataParallelStep}).
 */
final class Trainer {

  private final ModelConfig modelConfig;
  private final TrainingConfig config;
  private final ProgressBar progress;

  public Trainer(ModelConfig modelConfig, TrainingConfig config, java.io.PrintStream log,
      boolean terminal) {
    this.modelConfig = modelConfig;
    this.config = config;
    this.progress = new ProgressBar(log, terminal);
  }

  /** One evaluation of the validation set. */
  public record EpochRecord(int epoch, double loss, double validationHr, double validationNdcg,
      double seconds) {}

  /**
   * What training produced.
   *
   * @param secondsToBest wall time from the first step to the end of the best epoch's validation
   * @param seconds wall time of the whole training, validations included
   */
  public record Result(ModelWeights weights, int bestEpoch, Evaluator.Metrics validation,
      List<EpochRecord> epochs, Throughput throughput, double secondsToBest, double seconds) {}

  /**
   * Training speed.
   *
   * @param eventsPerSecond training positions (next-item targets) per second of training steps
   * @param flopsPerEvent estimated floating-point operations per position, forward + backward
   * @param achievedGflops eventsPerSecond × flopsPerEvent
   * @param sgemmGflops 512³ sgemms on this machine, same run: one per training thread at once,
   *     their rates summed (the machine's rate for the threads training uses)
   * @param threads the data-parallel workers
   */
  public record Throughput(double eventsPerSecond, double flopsPerEvent, double achievedGflops,
      double sgemmGflops, int threads) {
    public double sgemmFraction() {
      return achievedGflops / sgemmGflops;
    }
  }

  public Result train(Dataset data) {
    return train(data, ModelWeights.initialize(modelConfig));
  }

  /**
   * Trains from the given weights (a fine-tune: e.g. a softmax model converted to a Performer)
   * rather than from the config's seeded initialisation; they are copied, not changed.
   */
  public Result train(Dataset data, ModelWeights initial) {
    if (data.items().size() != modelConfig.items()) {
      throw new IllegalArgumentException("model config has " + modelConfig.items()
          + " items, the data " + data.items().size());
    }
    List<LeaveOneOut.TrainSequence> sequences = LeaveOneOut.training(data, config.maxLength(),
        config.wholeHistory());
    List<Evaluator.Case> validation = LeaveOneOut.validation(data, config.maxLength());
    if (sequences.isEmpty() || validation.isEmpty()) {
      throw new IllegalArgumentException("no user has the " + LeaveOneOut.MIN_EVENTS
          + "+ events training needs");
    }
    List<List<LeaveOneOut.TrainSequence>> batches = batches(sequences);
    long positions = sequences.stream().mapToLong(s -> s.targets().length).sum();

    ModelWeights weights = ModelWeights.of(modelConfig, initial.copy().arrays(),
        initial.projections());
    ModelWeights grads = weights.zerosLike();
    AdamW optimizer = new AdamW(weights, grads, config.weightDecay(), config.clipNorm());
    SplittableRandom negatives = new SplittableRandom(config.seed() + 2);
    try (DataParallelStep parallel = new DataParallelStep(modelConfig, weights, grads, config)) {
      return train(sequences, validation, batches, positions, weights, optimizer, parallel,
          negatives);
    }
  }

  private Result train(List<LeaveOneOut.TrainSequence> sequences,
      List<Evaluator.Case> validation, List<List<LeaveOneOut.TrainSequence>> batches,
      long positions, ModelWeights weights, AdamW optimizer, DataParallelStep parallel,
      SplittableRandom negatives) {
    long trainingStart = System.nanoTime();
    SequenceModel model = parallel.model();
    double sgemm = SgemmProbe.gflops(512, 5, config.threads());
    double flops = flopsPerEvent(meanLength(sequences));
    progress.message(String.format("training %s attention on %d users (%d positions per epoch, "
        + "%d steps), %,d parameters, %d thread%s; sgemm %.1f GFLOP/s on %s", modelConfig.arm()
        .wireName(), sequences.size(), positions, batches.size(), weights.parameterCount(),
        config.threads(), config.threads() == 1 ? "" : "s", sgemm,
        config.threads() == 1 ? "one thread" : "all of them at once"));

    List<EpochRecord> history = new ArrayList<>();
    ModelWeights best = null;
    Evaluator.Metrics bestMetrics = null;
    int bestEpoch = 0;
    double secondsToBest = 0;
    long trainNanos = 0;
    long trainPositions = 0;
    int sinceBest = 0;
    double learningRate = config.learningRate();
    for (int epoch = 1; epoch <= config.epochs(); epoch++) {
      long epochStart = System.nanoTime();
      List<List<LeaveOneOut.TrainSequence>> order = new ArrayList<>(batches);
      Collections.shuffle(order, new java.util.Random(config.seed() * 31 + epoch));
      double lossSum = 0;
      long epochPositions = 0;
      for (int step = 0; step < order.size(); step++) {
        long stepStart = System.nanoTime();
        List<LeaveOneOut.TrainSequence> chunk = order.get(step);
        double loss = parallel.lossAndGradients(chunk, config.fullSoftmax(modelConfig.items())
            ? null : sampleNegatives(negatives));
        parallel.update(optimizer, learningRate);
        long n = chunk.stream().mapToLong(s -> s.targets().length).sum();
        lossSum += loss * n;
        epochPositions += n;
        trainNanos += System.nanoTime() - stepStart;
        trainPositions += n;
        double rate = trainPositions / (trainNanos / 1e9);
        double left = (positions - epochPositions) / rate;
        progress.update(epoch, config.epochs(), step + 1, order.size(), lossSum / epochPositions,
            rate, left);
      }
      Evaluator.Metrics m = Evaluator.evaluate(Evaluator.modelScorer(model), validation,
          modelConfig.items(), Evaluator.batchSizeFor(validation), config.seed());
      double seconds = (System.nanoTime() - epochStart) / 1e9;
      history.add(new EpochRecord(epoch, lossSum / epochPositions, m.hr(), m.ndcg(), seconds));
      boolean improved = bestMetrics == null || m.ndcg() > bestMetrics.ndcg();
      progress.message(String.format("epoch %d: loss %.4f, validation HR@10 %.4f NDCG@10 %.4f%s "
          + "(%.1f s)", epoch, lossSum / epochPositions, m.hr(), m.ndcg(),
          improved ? " (best)" : "", seconds));
      if (improved) {
        best = weights.copy();
        bestMetrics = m;
        bestEpoch = epoch;
        secondsToBest = (System.nanoTime() - trainingStart) / 1e9;
        sinceBest = 0;
      } else if (++sinceBest >= config.patience()) {
        progress.message("early stop: no better validation NDCG@10 for " + config.patience()
            + " epochs; best epoch " + bestEpoch);
        break;
      } else if (sinceBest % plateau() == 0 && learningRate > config.learningRate() / 16) {
        learningRate /= 2;
        progress.message(String.format("validation plateau: learning rate %.2e", learningRate));
      }
    }
    double eventsPerSecond = trainPositions / (trainNanos / 1e9);
    Throughput throughput = new Throughput(eventsPerSecond, flops, eventsPerSecond * flops / 1e9,
        sgemm, config.threads());
    return new Result(best, bestEpoch, bestMetrics, history, throughput, secondsToBest,
        (System.nanoTime() - trainingStart) / 1e9);
  }

  /**
   * Epochs without a better validation score after which the learning rate halves (down to 1/16 of
   * its start): half the early-stopping patience, at least 2. Validation on a few hundred users is
   * noisy, so this must not be short: on ml-latest-small a third of a patience of 10 halved the rate
   * after an early lucky epoch and stopped training at epoch 15 (test NDCG@10 0.031, against 0.053
   * when training ran on).
   */
  private int plateau() {
    return Math.max(2, config.patience() / 2);
  }

  /** K distinct items, uniformly (Floyd's algorithm). */
  int[] sampleNegatives(SplittableRandom random) {
    int items = modelConfig.items();
    int k = Math.min(config.negatives(), items);
    java.util.LinkedHashSet<Integer> chosen = new java.util.LinkedHashSet<>();
    for (int j = items - k; j < items; j++) {
      int t = random.nextInt(j + 1);
      if (!chosen.add(t)) {
        chosen.add(j);
      }
    }
    return chosen.stream().mapToInt(Integer::intValue).toArray();
  }

  /**
   * Batches of similar length (little padding): sequences sorted by length, cut into batches of
   * {@link TrainingConfig#batchSize()} windows, and of at most max(1, maxBatchPositions ÷ the
   * batch's longest window) when that limit is set; the batch order is shuffled every epoch.
   */
  List<List<LeaveOneOut.TrainSequence>> batches(List<LeaveOneOut.TrainSequence> all) {
    List<LeaveOneOut.TrainSequence> sorted = new ArrayList<>(all);
    sorted.sort(Comparator.comparingInt(s -> s.targets().length));
    List<List<LeaveOneOut.TrainSequence>> out = new ArrayList<>();
    int i = 0;
    while (i < sorted.size()) {
      int end = Math.min(sorted.size(), i + config.batchSize());
      if (config.maxBatchPositions() > 0) {
        // sorted by length: the batch's longest window is its last
        while (end - i > 1 && (long) (end - i) * sorted.get(end - 1).targets().length
            > config.maxBatchPositions()) {
          end--;
        }
      }
      out.add(sorted.subList(i, end));
      i = end;
    }
    return out;
  }

  private static double meanLength(List<LeaveOneOut.TrainSequence> sequences) {
    return sequences.stream().mapToInt(s -> s.targets().length).average().orElse(1);
  }

  /**
   * Estimated FLOPs per training position, forward and backward (backward ≈ 2× forward): the
   * dense layers, the attention as implemented (full T × T blocks for softmax; features plus one
   * causal chunk for FAVOR+) and the output softmax.
   */
  double flopsPerEvent(double meanLength) {
    ModelConfig c = modelConfig;
    double d = c.dim();
    double dense = 2 * (4 * d * d + 2 * d * c.ffnDim());
    double attention;
    if (c.arm() == Arm.SOFTMAX) {
      attention = 2 * 2 * meanLength * d; // q·k and p·v over the sequence
    } else {
      double chunkLength = Math.min(meanLength, c.chunk());
      attention = 2 * 2 * c.features() * d // φ(q), φ(k)
          + 2 * chunkLength * c.heads() * (c.features() + c.headDim() + 1) // in-chunk blocks
          + 2 * 2 * c.features() * (d + c.heads()); // carried state: read and update
    }
    double scored = config.fullSoftmax(c.items()) ? c.items() : config.negatives() + 1;
    double forward = c.layers() * (dense + attention) + 2 * d * scored;
    return 3 * forward;
  }
}
