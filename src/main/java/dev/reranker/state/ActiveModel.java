package dev.reranker.state;

import dev.reranker.model.Arm;
import dev.reranker.model.BatchFolder;
import dev.reranker.model.IncrementalEncoder;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.model.SequenceModel;

/**
 * One loaded model version with what is derived from it: the batched model, the compiled weights of
 * the incremental encoder, and per-thread encoders and batch folders (both hold scratch buffers).
 */
public final class ActiveModel {

  private final ModelArtifacts.TrainedModel model;
  private final SequenceModel batched;
  private final IncrementalEncoder.Compiled compiled;
  private final ThreadLocal<IncrementalEncoder> encoders;
  private final ThreadLocal<BatchFolder> folders;

  public ActiveModel(ModelArtifacts.TrainedModel model) {
    this.model = model;
    this.batched = model.sequenceModel();
    this.compiled = model.compiled();
    this.encoders = ThreadLocal.withInitial(() -> new IncrementalEncoder(compiled));
    this.folders = ThreadLocal.withInitial(() -> new BatchFolder(batched, model.version()));
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

  public IncrementalEncoder.Compiled compiled() {
    return compiled;
  }

  public SequenceModel batched() {
    return batched;
  }

  /** This thread's incremental encoder. */
  public IncrementalEncoder encoder() {
    return encoders.get();
  }

  /** This thread's batch folder. */
  public BatchFolder folder() {
    return folders.get();
  }
}
