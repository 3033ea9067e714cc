package dev.reranker.training;

import dev.reranker.model.Batch;
import dev.reranker.model.ModelConfig;
import dev.reranker.model.ModelWeights;
import dev.reranker.model.SequenceModel;
import dev.reranker.model.Workspaces;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One training step's loss and gradients, data-parallel over threads: the batch's windows are cut
 * into as many contiguous shards as there are workers, each worker runs the forward pass, the loss
 * and the backward pass of its shard into its own gradients, and the gradients are then summed
 * into the optimiser's in worker order.
 *
 * <p>Why it equals the one-thread step: every shard divides its loss and gradients by the whole
 * batch's count of positions with a target ({@link NextItemLoss}'s normaliser), the sampled
 * negatives are drawn once per step and shared, and the model's only batch-level coupling is
 * that count (LayerNorm, attention and the feed-forward act per window). So the sum of the shards
 * is the batch's gradient up to float rounding in the order of the sum.
 *
 * <p>Reproducible bit for bit for a fixed thread count: the shards are fixed by the batch, each
 * worker's ND4J ops run on one thread in a fixed order, worker w draws its dropout masks from its
 * own generator (worker 0 from the seed one thread always used, so {@code threads = 1} is the
 * trainer as it was), and the sum runs in worker order. Another thread count draws other masks
 * and sums in another order: an equally good run, not the same bits.
 *
 * <p>Workers are the calling thread (shard 0) and {@code threads − 1} daemon threads named
 * {@code reranker-train-N}; each keeps its own ND4J workspace (they are per thread).
 */
final class DataParallelStep implements AutoCloseable {

  private static final AtomicInteger POOLS = new AtomicInteger();

  /** The workspace (per worker thread) each shard's forward, loss and backward run in. */
  static final String WORKSPACE = "training-step";

  /** What one worker owns: a model over the shared weights, gradients, dropout masks. */
  private record Worker(SequenceModel model, ModelWeights grads, SequenceModel.Dropout dropout) {}

  private final ModelConfig config;
  private final TrainingConfig training;
  private final ModelWeights grads;
  private final List<Worker> workers = new ArrayList<>();
  private final ExecutorService pool;

  /**
   * @param weights the parameters every worker reads (the optimiser updates them between steps)
   * @param grads where each step's summed gradients land (the optimiser's); worker 0 writes here
   */
  DataParallelStep(ModelConfig config, ModelWeights weights, ModelWeights grads,
      TrainingConfig training) {
    this.config = config;
    this.training = training;
    this.grads = grads;
    for (int w = 0; w < training.threads(); w++) {
      workers.add(new Worker(new SequenceModel(config, weights), w == 0 ? grads
          : weights.zerosLike(), new SequenceModel.Dropout(config.dropout(), dropoutSeed(w))));
    }
    if (training.threads() == 1) {
      pool = null;
    } else {
      int id = POOLS.incrementAndGet();
      AtomicInteger n = new AtomicInteger();
      pool = Executors.newFixedThreadPool(training.threads() - 1, r -> {
        Thread t = new Thread(r, "reranker-train-" + id + "-" + n.incrementAndGet());
        t.setDaemon(true);
        return t;
      });
    }
  }

  /** Worker 0 keeps the trainer's historical seed (seed + 1); the others are spread apart. */
  long dropoutSeed(int worker) {
    return training.seed() + 1 + worker * 0x9E3779B97F4A7C15L;
  }

  /** One AdamW update with its elementwise part spread over the workers' threads. */
  double update(AdamW optimizer, double learningRate) {
    return optimizer.step(learningRate, pool, workers.size() - 1);
  }

  /** The model worker 0 computes with (for evaluation between epochs). */
  SequenceModel model() {
    return workers.get(0).model();
  }

  /**
   * Sets the gradients to this batch's: ∂(mean loss)/∂θ summed over the shards.
   *
   * @param chunk the batch's training windows
   * @param negatives the step's shared sampled negatives, or null for the full softmax
   * @return the batch's mean loss over positions with a target
   */
  double lossAndGradients(List<LeaveOneOut.TrainSequence> chunk, int[] negatives) {
    int shards = Math.min(workers.size(), chunk.size());
    int normaliser = 0;
    for (LeaveOneOut.TrainSequence s : chunk) {
      normaliser += NextItemLoss.targetCount(s.targets());
    }
    // workers beyond the shards sit this step out: their gradients are not added
    List<Future<Double>> rest = new ArrayList<>(Math.max(0, shards - 1));
    for (int w = 1; w < shards; w++) {
      Worker worker = workers.get(w);
      List<LeaveOneOut.TrainSequence> part = chunk.subList(w * chunk.size() / shards,
          (w + 1) * chunk.size() / shards);
      int total = normaliser;
      rest.add(pool.submit(() -> shard(worker, part, negatives, total)));
    }
    double loss = shard(workers.get(0), chunk.subList(0, chunk.size() / shards), negatives,
        normaliser);
    for (int w = 1; w < shards; w++) {
      loss += await(rest.get(w - 1));
    }
    for (int w = 1; w < shards; w++) {
      ModelWeights g = workers.get(w).grads();
      for (String name : grads.arrays().keySet()) {
        grads.get(name).addi(g.get(name));
      }
    }
    return loss;
  }

  /** One worker's shard: its gradients are set to the shard's share of the batch's. */
  private double shard(Worker worker, List<LeaveOneOut.TrainSequence> part, int[] negatives,
      int normaliser) {
    zero(worker.grads());
    List<Batch.Window> windows = new ArrayList<>(part.size());
    for (LeaveOneOut.TrainSequence s : part) {
      windows.add(s.window());
    }
    Batch batch = Batch.of(windows);
    int[] targets = new int[batch.rows()];
    java.util.Arrays.fill(targets, -1);
    for (int s = 0; s < part.size(); s++) {
      int[] t = part.get(s).targets();
      System.arraycopy(t, 0, targets, s * batch.time(), t.length);
    }
    SequenceModel model = worker.model();
    // every temporary of the step lives in a reused arena: touching fresh native memory is slow
    try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(
        Workspaces.PER_PASS, WORKSPACE)) {
      SequenceModel.Forward f = model.forward(batch, worker.dropout());
      INDArray gradHidden = Nd4j.create(DataType.FLOAT, batch.rows(), config.dim());
      double loss = negatives == null
          ? NextItemLoss.fullSoftmax(f.hidden(), targets, model.weights(), gradHidden,
              worker.grads(), normaliser)
          : NextItemLoss.sampledSoftmax(f.hidden(), targets, model.weights(), negatives,
              gradHidden, worker.grads(), normaliser);
      model.backward(f, gradHidden, worker.grads());
      return loss;
    }
  }

  private static void zero(ModelWeights g) {
    for (INDArray a : g.arrays().values()) {
      a.assign(0);
    }
  }

  private static double await(Future<Double> f) {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while a training shard ran", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException(e.getCause());
    }
  }

  @Override
  public void close() {
    if (pool != null) {
      pool.shutdownNow();
    }
  }
}
