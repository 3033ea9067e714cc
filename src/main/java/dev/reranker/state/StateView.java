package dev.reranker.state;

import dev.reranker.model.Arm;

/**
 * What a reader gets of a user's state: an immutable copy taken under the entry's lock, so a
 * caller never holds (or forgets) the lock of a cached entry.
 *
 * @param userVector the user vector (D floats, a copy); null when the state has folded no known
 *     item (a history of unknown items only: nothing the model can use)
 * @param folded events folded into the state (known items)
 * @param historyPosition history events read (folded, or read past as unknown items)
 * @param lastTimestamp the last folded event's timestamp; null when none is folded
 * @param byteSize the state's exact size in bytes (its binary form)
 * @param partial the state could see only the retained history (see {@link CachedState#partial()})
 */
public record StateView(Arm arm, String modelVersion, float[] userVector, long folded,
    long historyPosition, Long lastTimestamp, long byteSize, boolean partial) {

  /** Copies an entry's state under its lock. */
  static StateView of(Arm arm, CachedState entry) {
    entry.lock().lock();
    return copyAndUnlock(arm, entry);
  }

  /** {@link #of}, or null at once when another thread holds the entry's lock. */
  static StateView tryOf(Arm arm, CachedState entry) {
    if (!entry.lock().tryLock()) {
      return null;
    }
    return copyAndUnlock(arm, entry);
  }

  private static StateView copyAndUnlock(Arm arm, CachedState entry) {
    try {
      var s = entry.state();
      boolean any = s.position() > 0;
      long last = s.lastTimestamp();
      return new StateView(arm, s.modelVersion(), any ? s.userVector() : null, s.position(),
          entry.historyPosition(),
          any && last != dev.reranker.model.OrderSignal.NO_PREVIOUS ? last : null,
          s.byteSize(), entry.partial());
    } finally {
      entry.lock().unlock();
    }
  }
}
