package dev.reranker.serving;

import dev.reranker.experiment.ArmChoice;
import io.swagger.v3.oas.annotations.media.Schema;
import java.util.List;

/** The JSON bodies of the reranking API. */
public final class RerankApi {
  private RerankApi() {}

  /** The most candidates one request may carry. */
  public static final int MAX_CANDIDATES = 10_000;
  /** The most events a stateless request may carry. */
  public static final int MAX_HISTORY = 10_000;
  /** The longest id accepted. */
  public static final int MAX_ID_LENGTH = dev.reranker.data.Ids.MAX_LENGTH;

  @Schema(description = "A reranking request.")
  public record RerankRequest(
      @Schema(description = "The user's id (the key of their interaction events).",
          requiredMode = Schema.RequiredMode.REQUIRED, example = "u42") String userId,
      @Schema(description = "Item ids to rerank, 1 to 10,000, no duplicates.",
          requiredMode = Schema.RequiredMode.REQUIRED) List<String> candidates,
      @Schema(description = "How many items to return (default: all).") Integer k,
      @Schema(description = "Experiment id (default: the configured default experiment).")
      String experiment,
      @Schema(description = "A stateless call: the user's history, oldest first, instead of the "
          + "stored one.") List<InlineEvent> history) {}

  @Schema(description = "An event of a stateless request's history.")
  public record InlineEvent(@Schema(requiredMode = Schema.RequiredMode.REQUIRED) String itemId,
      @Schema(description = "Epoch milliseconds.", requiredMode = Schema.RequiredMode.REQUIRED)
      Long timestamp) {}

  @Schema(description = "The reranked candidates.")
  public record RerankResponse(String requestId, String userId, String experiment, ArmChoice arm,
      @Schema(description = "The version of the model that ranked the items (interleaved: both, "
          + "joined by '+'). Null when no model did: the popularity order was served (a cold "
          + "start, a degraded answer, the fallback arm). `arm` is always the user's assigned arm.",
          nullable = true)
      String modelVersion,
      @Schema(description = "History events the user's state has read.") long statePosition,
      List<Item> items,
      @Schema(description = "True when the fallback order was served because the request ran out"
          + " of time or the state was unavailable.") boolean degraded,
      @Schema(description = "True when the user has no history yet (fallback order).")
      boolean coldStart,
      double tookMs) {}

  @Schema(description = "One candidate in its new place.")
  public record Item(String itemId,
      @Schema(description = "The model's score (the user vector · the item's embedding; higher "
          + "ranks first), on no fixed scale. Null for a fallback item, which has no model "
          + "score: sort by rank, not by score.", nullable = true) Double score,
      @Schema(description = "1-based position in the answer.") int rank,
      @Schema(description = "True when the model did not rank this item (an item it does not "
          + "know, a cold start, a degraded answer): it is ordered by how often this instance has "
          + "seen it in events, after the model's items, and its score is null.")
      boolean fallback) {

    /** The API's item: a fallback item's popularity count is an ordering key, not a score. */
    static Item of(RerankResult.Item item) {
      return new Item(item.itemId(), item.fallback() ? null : item.score(), item.rank(),
          item.fallback());
    }
  }

  @Schema(description = "A user's state per arm, for debugging.")
  public record UserState(String userId, List<ArmState> arms) {}

  public record ArmState(String arm, String modelVersion, long position, long historyPosition,
      Long lastEventTime, long bytes, boolean partial) {}
}
