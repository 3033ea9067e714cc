package dev.reranker.attention;

/** A per-user, per-layer incremental attention state: everything needed to fold the next event. */
public interface AttentionState {

  /** Events folded so far. */
  long position();

  /** The exact number of bytes of state payload (float32 numbers plus the position counter). */
  long byteSize();
}
