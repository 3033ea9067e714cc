package dev.reranker.attention;

/**
 * Folds one event into an incremental attention state and returns that event's attention output:
 * the causal attention of the newest position over all positions folded so far, equal to the last
 * row of the batched causal forward over the whole history.
 *
 * <p>Runs on plain float arrays: one event is a few thousand multiply-adds, far less than ND4J's
 * fixed cost per operation. Layout of the arguments, all heads at once:
 * q, k (heads × d), v, out (heads × d_v), head-major.
 *
 * <p>Implementations hold scratch buffers: <b>not thread-safe</b>, one per thread (cheap to create).
 */
public interface StepKernel<S extends AttentionState> {

  /** An empty state (no events) of the right size for this kernel. */
  S newState();

  /** Folds the event (q, k, v) into {@code state} and writes its attention output into {@code out}. */
  default void step(S state, float[] q, float[] k, float[] v, float[] out) {
    step(state, q, 0, k, 0, v, 0, out, 0);
  }

  /** {@link #step(AttentionState, float[], float[], float[], float[])} reading and writing at offsets. */
  void step(S state, float[] q, int qOffset, float[] k, int kOffset, float[] v, int vOffset,
      float[] out, int outOffset);
}
