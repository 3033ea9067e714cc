package dev.reranker.state;

import dev.reranker.model.EncoderState;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A cache entry: a user's {@link EncoderState} for one arm plus how far into the stored history it
 * has read. The state is folded in place under {@link #lock()}, by one owner at a time: a catch-up
 * takes the lock <em>before</em> it reads the position and the pending events, and holds it until
 * the fold is written back. Readers (scoring, snapshots) take the lock too.
 *
 * <p>Invariant (checked after every catch-up, {@link #consistent()}): every history event read is
 * either folded into the state or counted as not folded (an item the model does not know, or an
 * event that had left the retained history before the state could read it):
 * {@code state.position() + unfolded == historyPosition}. A fold applied twice breaks it.
 */
public final class CachedState {

  private final ReentrantLock lock = new ReentrantLock();
  /** Volatile: the cheap path checks its model version before taking the lock. */
  private volatile EncoderState state;
  /** Volatile: the cheap path compares it with the history's extent before taking the lock. */
  private volatile long historyPosition;
  private long unfolded;
  private volatile boolean retired;
  private long snapshotPosition;
  private long snapshotMillis;
  private final boolean partial;

  /**
   * @param unfolded history events before {@code historyPosition} that the state has not folded
   */
  CachedState(EncoderState state, long historyPosition, long unfolded, long snapshotPosition,
      long snapshotMillis, boolean partial) {
    if (unfolded < 0 || state.position() + unfolded != historyPosition) {
      throw new IllegalArgumentException("a state of " + state.position() + " folded events with "
          + unfolded + " unfolded ones cannot stand at history position " + historyPosition);
    }
    this.state = state;
    this.historyPosition = historyPosition;
    this.unfolded = unfolded;
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

  /** History events read but not folded (unknown items; events gone before they could be read). */
  long unfolded() {
    return unfolded;
  }

  /** {@code state.position() + unfolded == historyPosition}: nothing folded twice or missed. */
  boolean consistent() {
    return state.position() + unfolded == historyPosition;
  }

  /** Dropped from the cache by a catch-up (stale or ahead of the history): not to be folded. */
  boolean retired() {
    return retired;
  }

  void retire() {
    retired = true;
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

  void advanced(long newHistoryPosition, long newUnfolded) {
    historyPosition = newHistoryPosition;
    unfolded = newUnfolded;
  }

  void replace(EncoderState newState) {
    state = newState;
  }
}
