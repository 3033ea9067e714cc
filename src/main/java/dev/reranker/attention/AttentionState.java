package dev.reranker.attention;

/**
 * A per-user, per-layer incremental attention state: everything needed to fold the next event.
 * Sealed: the performer's prefix sums ({@link FavorState}) or the baseline's KV cache ({@link
 * SoftmaxKvCache}); an encoder state holds one per layer and copies, sizes and writes them
 * through these operations, without asking which it has.
 */
public sealed interface AttentionState permits FavorState, SoftmaxKvCache {

  /** Events folded so far. */
  long position();

  /** The exact number of bytes of state payload (float32 numbers plus the position counter). */
  long byteSize();

  /** The exact length of {@link #writeTo}'s output. */
  long serializedSize();

  /** A deep copy. */
  AttentionState copy();

  /** Writes the binary form (read back by the implementation's {@code readFrom}). */
  void writeTo(java.io.DataOutput out) throws java.io.IOException;

  /**
   * Reads one float of every 64-byte cache line of the state that the next fold updates, all at
   * once, so that the memory system fetches the lines together rather than one by one as the fold
   * reaches them; returns their sum, so that the reads are not optimised away. A hint with no
   * effect on any result (the model package's block fold calls it for a block of states before
   * folding them).
   */
  float readAhead();
}
