package dev.reranker.model;

import java.util.List;

/**
 * Batched ND4J passes on the CPU ({@link BatchFolder}, one per thread: it holds a workspace): the
 * default backend, and the only one for the softmax baseline.
 */
public final class Nd4jEncoderBackend implements EncoderBackend {

  private final ThreadLocal<BatchFolder> folders;

  /**
   * @param model the batched model
   * @param plain the same model's plain weights, for the short windows folded on plain arrays
   */
  public Nd4jEncoderBackend(SequenceModel model, PlainWeights plain) {
    this.folders = ThreadLocal.withInitial(() -> new BatchFolder(model, plain));
  }

  @Override
  public String name() {
    return "nd4j";
  }

  @Override
  public String device() {
    return "CPU (ND4J " + org.nd4j.linalg.factory.Nd4j.getBackend().getClass().getSimpleName()
        + ")";
  }

  @Override
  public void fold(List<Work> work) {
    folders.get().run(work);
  }
}
