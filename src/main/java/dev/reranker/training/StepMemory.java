package dev.reranker.training;

import dev.reranker.model.Batch;
import dev.reranker.model.ModelConfig;
import dev.reranker.model.ModelWeights;
import dev.reranker.model.Workspaces;
import java.util.List;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The memory of one training step at a window length: what {@code bench training-memory} reports
 * per arm and length.
 *
 * <p>A step's forward pass, loss and backward pass run inside one ND4J workspace, a bump arena that
 * is reset only when the step ends ({@link Workspaces#PER_PASS}); nothing allocated in it is freed
 * before then. The bytes the step allocates in that arena are therefore the arena the step needs:
 * its peak working memory, every activation kept for the backward pass and every temporary
 * included. ND4J counts them per cycle ({@link MemoryWorkspace#getLastCycleAllocations()}); the
 * count depends only on the shapes, not on the machine or its load. Around the step sit the
 * parameters, their gradients and AdamW's two moments: four float copies of the weights, the same
 * at every length.
 *
 * <p>One thread (the step runs on the caller's thread, in its workspace), full windows of
 * {@code length} events with items uniform over the catalogue, the step {@link Trainer} runs.
 */
public final class StepMemory {
  private StepMemory() {}

  /**
   * One measurement.
   *
   * @param stepBytes bytes the step allocated in its arena (its working memory)
   * @param parameterStateBytes weights, gradients and AdamW's moments: 4 × 4 bytes a parameter
   * @param stepSeconds wall time of the measured step (forward, loss, backward, AdamW)
   */
  public record Measurement(int batch, int length, long stepBytes, long parameterStateBytes,
      double stepSeconds) {
    /** Working bytes per training position (batch × length of them). */
    public double bytesPerPosition() {
      return (double) stepBytes / ((long) batch * length);
    }
  }

  /**
   * Runs {@code warmUp} steps (the arena learns its size), then the measured one.
   *
   * @param config the model (its item count is the catalogue)
   * @param training batch size, negatives (0: full softmax), seed; its thread count is ignored
   * @param length events per window
   */
  public static Measurement measure(ModelConfig config, TrainingConfig training, int length,
      int warmUp) {
    TrainingConfig oneThread = training.withWindowAndSeed(Math.max(training.maxLength(), length),
        training.seed()).oneThread();
    List<LeaveOneOut.TrainSequence> batch = StepThroughput.fullWindows(config, oneThread, length);
    ModelWeights weights = ModelWeights.initialize(config);
    ModelWeights grads = weights.zerosLike();
    AdamW optimizer = new AdamW(weights, grads, oneThread.weightDecay(), oneThread.clipNorm());
    Trainer trainer = new Trainer(config, oneThread, new java.io.PrintStream(
        java.io.OutputStream.nullOutputStream()), false);
    SplittableRandom negatives = new SplittableRandom(oneThread.seed() + 2);
    boolean full = oneThread.fullSoftmax(config.items());
    // a fresh arena, so that no earlier (longer) step's size is counted
    Nd4j.getWorkspaceManager().destroyAllWorkspacesForCurrentThread();
    double seconds = 0;
    try (DataParallelStep step = new DataParallelStep(config, weights, grads, oneThread)) {
      for (int i = -warmUp; i <= 0; i++) {
        long start = System.nanoTime();
        step.lossAndGradients(batch, full ? null : trainer.sampleNegatives(negatives));
        step.update(optimizer, 1e-4);
        seconds = (System.nanoTime() - start) / 1e9;
      }
    }
    MemoryWorkspace arena = Nd4j.getWorkspaceManager().getWorkspaceForCurrentThread(
        Workspaces.PER_PASS, DataParallelStep.WORKSPACE);
    long stepBytes = arena.getLastCycleAllocations();
    Nd4j.getWorkspaceManager().destroyAllWorkspacesForCurrentThread();
    return new Measurement(oneThread.batchSize(), length, stepBytes,
        weights.parameterCount() * 4L * Float.BYTES, seconds);
  }
}
