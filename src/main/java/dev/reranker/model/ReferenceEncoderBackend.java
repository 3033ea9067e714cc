package dev.reranker.model;

import java.util.List;

/**
 * The reference: every event folded one by one on plain arrays, by the {@link IncrementalEncoder}
 * whose equality with the batched encoding the attention tests establish. Slow for long histories
 * (no batching); what the other backends are held to.
 */
public final class ReferenceEncoderBackend implements EncoderBackend {

  private final ThreadLocal<IncrementalEncoder> encoders;

  public ReferenceEncoderBackend(PlainWeights weights) {
    this.encoders = ThreadLocal.withInitial(() -> new IncrementalEncoder(weights));
  }

  @Override
  public String name() {
    return "reference";
  }

  @Override
  public String device() {
    return "CPU (plain arrays, one event at a time)";
  }

  @Override
  public void fold(List<Work> work) {
    IncrementalEncoder encoder = encoders.get();
    for (Work w : work) {
      EncoderState state = w.state();
      if (state.arm() == Arm.SOFTMAX) { // the window replaces the state
        EncoderState window = encoder.newWindowState(w.firstPosition(), w.previousTimestamp());
        state.replace(window.layersView(), window.userVectorView(), window.position(),
            window.lastTimestamp());
      }
      for (int i = 0; i < w.items().length; i++) {
        encoder.fold(state, w.items()[i], w.timestamps()[i]);
      }
    }
  }
}
