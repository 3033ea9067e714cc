package dev.reranker.data;

import java.util.Objects;

/**
 * One user–item interaction: the unit every reader produces and the Kafka ingestion consumes.
 *
 * @param userId the product's user id
 * @param itemId the product's item id
 * @param timestamp epoch milliseconds, or {@link #NO_TIMESTAMP} for formats without time (SASRec)
 * @param eventType what happened
 * @param eventId a producer-assigned id, unique per event (deduplication); readers of files without
 *     one derive it from the source and line number
 */
public record Interaction(String userId, String itemId, long timestamp, EventType eventType,
    String eventId) {

  /** The timestamp of events whose format has no time: only their order is known. */
  public static final long NO_TIMESTAMP = Long.MIN_VALUE;

  public Interaction {
    Objects.requireNonNull(userId, "userId");
    Objects.requireNonNull(itemId, "itemId");
    Objects.requireNonNull(eventType, "eventType");
    Objects.requireNonNull(eventId, "eventId");
  }

  public boolean hasTimestamp() {
    return timestamp != NO_TIMESTAMP;
  }
}
