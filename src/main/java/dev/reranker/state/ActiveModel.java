package dev.reranker.state;

import dev.reranker.model.Arm;
import dev.reranker.model.EncoderBackend;
import dev.reranker.model.EncoderBackends;
import dev.reranker.model.EncoderState;
import dev.reranker.model.IncrementalEncoder;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.model.OrderSignal;
import dev.reranker.model.PlainWeights;
import dev.reranker.model.SequenceModel;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One loaded model version with what is derived from it: the batched model, the plain-array
 * weights of the incremental encoder, per-thread encoders (they hold scratch buffers), and the
 * backend its batched work runs on ({@link EncoderBackends}: ND4J on the CPU, or the GPU).
 */
public final class ActiveModel implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ActiveModel.class);

  private final ModelArtifacts.TrainedModel model;
  private final SequenceModel batched;
  private final PlainWeights plainWeights;
  private final ThreadLocal<IncrementalEncoder> encoders;
  private final EncoderBackend backend;

  /** On the CPU. */
  public ActiveModel(ModelArtifacts.TrainedModel model) {
    this(model, EncoderBackends.Settings.cpu());
  }

  /**
   * With the backend {@code compute} chooses (logged with its reason).
   *
   * @throws IllegalStateException when the GPU was required and cannot be used
   */
  public ActiveModel(ModelArtifacts.TrainedModel model, EncoderBackends.Settings compute) {
    this.model = model;
    this.batched = model.sequenceModel();
    this.plainWeights = model.plainWeights();
    this.encoders = ThreadLocal.withInitial(() -> new IncrementalEncoder(plainWeights));
    EncoderBackends.Choice choice = EncoderBackends.choose(compute, batched, plainWeights);
    this.backend = choice.backend();
    if (compute.compute() != EncoderBackends.Compute.CPU) {
      log.info("{} model {}: batched encoding on {} backend, {} ({})", arm().wireName(),
          model.version(), backend.name(), backend.device(), choice.reason());
    }
  }

  /**
   * Runs each path once (one-event folds, scoring, a batched fold) so that the first requests do
   * not pay for class loading, JIT and ND4J's first touch of native memory; on the calling thread.
   */
  public void warmUp() {
    int n = model.config().items();
    EncoderState s = encoder().newState();
    for (int i = 0; i < 64; i++) {
      encoder().fold(s, i % n, 1_000L * i);
    }
    plainWeights.score(s.userVector(), 0);
    int[] items = new int[32];
    long[] times = new long[32];
    for (int i = 0; i < items.length; i++) {
      items[i] = i % n;
      times[i] = 1_000L * i;
    }
    backend.fold(List.of(new EncoderBackend.Work(encoder().newState(), items, times, 0,
        OrderSignal.NO_PREVIOUS)));
  }

  public ModelArtifacts.TrainedModel trained() {
    return model;
  }

  public String version() {
    return model.version();
  }

  public Arm arm() {
    return model.config().arm();
  }

  /** The item's embedding row, or −1 if the model does not know it. */
  public int itemIndex(String itemId) {
    return model.items().indexOf(itemId);
  }

  public PlainWeights plainWeights() {
    return plainWeights;
  }

  public SequenceModel batched() {
    return batched;
  }

  /** This thread's incremental encoder. */
  public IncrementalEncoder encoder() {
    return encoders.get();
  }

  /** Where this model's batched work runs. */
  public EncoderBackend backend() {
    return backend;
  }

  /** Releases the backend's resources (device memory); the model must no longer be used. */
  @Override
  public void close() {
    backend.close();
  }
}
