package dev.reranker.model;

/**
 * The order signal added to each event's item embedding: two log-bucketed embeddings, both fixed
 * once the event is folded and with no cap on the history length.
 *
 * <p>Why not SASRec's learned positions 0 … maxLen−1: a user's history here grows forever and is
 * folded one event at a time into a constant-size state. Positions counted from the end (most recent
 * = 0) would change for every folded event whenever a new one arrives, so nothing could be cached;
 * positions counted from the start need a table as long as the longest history ever seen. Instead:
 * <ul>
 *   <li><b>Index bucket</b> ⌊log₂(p+1)⌋ of the event's absolute position p (0-based) in the user's
 *       whole history: 0 for the first event, 1 for the 2nd–3rd, 2 for the 4th–7th, … It never changes
 *       once assigned, {@value #INDEX_BUCKETS} buckets cover 2³² events, and coarse buckets for old
 *       events match how little their exact position matters. It also works for data without
 *       timestamps (the SASRec format).</li>
 *   <li><b>Gap bucket</b> of the time since the user's previous event: 0 for a first event, 1 when
 *       the data has no timestamps, else 2 + ⌊log₂(1 + gap seconds)⌋ (a same-second burst, minutes,
 *       hours, days, months, years…). Negative gaps (late events) count as 0 s. Fixed at folding
 *       time, too.</li>
 * </ul>
 */
public final class OrderSignal {
  private OrderSignal() {}

  /** Index buckets: ⌊log₂(p+1)⌋ ≤ 31 for every p < 2³². */
  public static final int INDEX_BUCKETS = 32;
  /** Gap buckets: first, unknown, and 2 + ⌊log₂(1 + s)⌋ for s up to 2⁴¹ seconds. */
  public static final int GAP_BUCKETS = 44;
  /** The previous timestamp of a user's first event. */
  public static final long NO_PREVIOUS = Long.MIN_VALUE + 1;

  private static final int FIRST_EVENT = 0;
  private static final int UNKNOWN_GAP = 1;

  /** ⌊log₂(p+1)⌋, capped at {@value #INDEX_BUCKETS} − 1. */
  public static int indexBucket(long position) {
    if (position < 0) {
      throw new IllegalArgumentException("position must be ≥ 0, got " + position);
    }
    int bucket = 63 - Long.numberOfLeadingZeros(position + 1);
    return Math.min(bucket, INDEX_BUCKETS - 1);
  }

  /**
   * The gap bucket of an event at {@code timestamp} (epoch ms) after one at {@code previous}.
   *
   * @param previous {@link #NO_PREVIOUS} for a user's first event; {@code Interaction.NO_TIMESTAMP}
   *     (or a current timestamp of that value) means the data has no time
   */
  public static int gapBucket(long previous, long timestamp) {
    if (previous == NO_PREVIOUS) {
      return FIRST_EVENT;
    }
    if (previous == Long.MIN_VALUE || timestamp == Long.MIN_VALUE) {
      return UNKNOWN_GAP;
    }
    long seconds = Math.max(0, (timestamp - previous) / 1000);
    int bucket = 2 + (63 - Long.numberOfLeadingZeros(seconds + 1));
    return Math.min(bucket, GAP_BUCKETS - 1);
  }
}
