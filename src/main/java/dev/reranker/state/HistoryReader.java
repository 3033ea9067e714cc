package dev.reranker.state;

import java.util.List;

/**
 * Read access to users' stored histories (the Kafka Streams history store, or anything else that
 * keeps them). Histories are bounded: only events at positions ≥ {@link Extent#first()} are kept.
 */
public interface HistoryReader {

  /**
   * Where a user's history stands.
   *
   * @param first the oldest retained position
   * @param next the position the next event will get (= events ever applied)
   */
  record Extent(long first, long next) {
    public static final Extent EMPTY = new Extent(0, 0);

    public long retained() {
      return next - first;
    }
  }

  /** The user's extent ({@link Extent#EMPTY} for an unknown user). */
  Extent extent(String userId);

  /** Events at positions [from, to), in order; positions below the retained range are absent. */
  List<HistoryEvent> events(String userId, long from, long to);
}
