package dev.reranker.serving;

import dev.reranker.experiment.ArmChoice;
import java.util.List;

/**
 * A reranked candidate list.
 *
 * @param arm the arm that produced it ({@code fallback} when the popularity order was served)
 * @param modelVersion the model version of the state used, or null for the fallback
 * @param statePosition events in the user's state (history events read), or 0
 * @param degraded true when the fallback order was served because the request ran out of time or
 *     the user's state was unavailable
 * @param coldStart true when the user has no history yet
 */
public record RerankResult(String userId, ArmChoice arm, String modelVersion, long statePosition,
    List<Item> items, boolean degraded, boolean coldStart, long stateBytes) {

  /**
   * One candidate in its new place.
   *
   * @param score the model's score (the fallback's popularity count for fallback-ranked items)
   * @param rank 1-based
   * @param fallback true when the model did not rank it (unknown item, cold start, degraded)
   */
  public record Item(String itemId, double score, int rank, boolean fallback) {}
}
