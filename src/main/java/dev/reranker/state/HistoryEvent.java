package dev.reranker.state;

import dev.reranker.data.EventType;

/**
 * One event of a user's stored history.
 *
 * @param position its absolute position in the user's history (0 = the first event ever applied)
 * @param itemId the product's item id (kept even when the model does not know the item)
 * @param timestamp epoch milliseconds
 */
public record HistoryEvent(long position, String itemId, long timestamp, EventType eventType) {}
