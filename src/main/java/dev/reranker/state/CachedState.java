package dev.reranker.state;

import dev.reranker.model.EncoderState;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A cache entry: a user's {@link EncoderState} for one arm plus how far into the stored history it
 * has read. The state is folded in place under {@link #lock()}; readers (scoring) take the lock too.
 */
public final class CachedState {

  private final ReentrantLock lock = new ReentrantLock();
  private EncoderState state;
  private long historyPosition;
  private long snapshotPosition;
  private long snapshotMillis;
  private final boolean partial;

  CachedState(EncoderState state, long historyPosition, long snapshotPosition, long snapshotMillis,
      boolean partial) {
    this.state = state;
    this.historyPosition = historyPosition;
    this.snapshotPosition = snapshotPosition;
    this.snapshotMillis = snapshotMillis;
    this.partial = partial;
  }

  public ReentrantLock lock() {
    return lock;
  }

  /** The state (read it under the lock). */
  public EncoderState state() {
    return state;
  }

  /** History events consumed (folded, or skipped as unknown items). */
  public long historyPosition() {
    return historyPosition;
  }

  /**
   * True when the state could not see the user's whole history: its early events had left the
   * retained history and no snapshot covered them (e.g. a new model version). It then encodes the
   * retained events only.
   */
  public boolean partial() {
    return partial;
  }

  /** The exact bytes the state occupies (its binary form). */
  public long byteSize() {
    return state.byteSize();
  }

  long snapshotPosition() {
    return snapshotPosition;
  }

  long snapshotMillis() {
    return snapshotMillis;
  }

  void snapshotted(long position, long millis) {
    snapshotPosition = position;
    snapshotMillis = millis;
  }

  void advanced(long newHistoryPosition) {
    historyPosition = newHistoryPosition;
  }

  void replace(EncoderState newState, long newHistoryPosition) {
    state = newState;
    historyPosition = newHistoryPosition;
  }
}
