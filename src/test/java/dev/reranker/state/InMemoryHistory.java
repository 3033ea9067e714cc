package dev.reranker.state;

import dev.reranker.data.EventType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Histories held in memory, bounded per user like the Kafka-backed store: for a stateless request
 * that brings its own history, and for tests of the state logic. Thread-safe per user.
 */
public final class InMemoryHistory implements HistoryReader {

  private final int limit;
  private final Map<String, UserLog> users = new ConcurrentHashMap<>();

  private static final class UserLog {
    long first;
    final List<HistoryEvent> events = new ArrayList<>();
  }

  /** @param limit events retained per user (older ones are dropped) */
  public InMemoryHistory(int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be ≥ 1, got " + limit);
    }
    this.limit = limit;
  }

  /** Appends an event; returns its position. */
  public long append(String userId, String itemId, long timestamp, EventType type) {
    UserLog log = users.computeIfAbsent(userId, u -> new UserLog());
    synchronized (log) {
      long position = log.first + log.events.size();
      log.events.add(new HistoryEvent(position, itemId, timestamp, type));
      if (log.events.size() > limit) {
        log.events.remove(0);
        log.first++;
      }
      return position;
    }
  }

  @Override
  public Extent extent(String userId) {
    UserLog log = users.get(userId);
    if (log == null) {
      return Extent.EMPTY;
    }
    synchronized (log) {
      return new Extent(log.first, log.first + log.events.size());
    }
  }

  @Override
  public List<HistoryEvent> events(String userId, long from, long to) {
    UserLog log = users.get(userId);
    if (log == null) {
      return List.of();
    }
    synchronized (log) {
      long start = Math.max(from, log.first);
      long end = Math.min(to, log.first + log.events.size());
      if (start >= end) {
        return List.of();
      }
      return List.copyOf(log.events.subList((int) (start - log.first), (int) (end - log.first)));
    }
  }
}
