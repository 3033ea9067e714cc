package dev.reranker.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Interactions grouped into per-user chronological histories over a dense item index.
 *
 * <p>Preprocessing, in order:
 * <ol>
 *   <li>group by user, users in order of first appearance;</li>
 *   <li>sort each history by timestamp, <b>stably</b>: events with equal timestamps (MovieLens rates
 *       many movies in one second) keep their order in the source; formats without time keep
 *       source order;</li>
 *   <li>optionally, the k-core: repeatedly drop users and items with fewer than k events until
 *       none is left (SASRec uses k = 5);</li>
 *   <li>index items in order of first appearance in the (user, time) order — the same data always
 *       gives the same indices.</li>
 * </ol>
 */
public final class Dataset {

  /** One user's history, oldest first. */
  public record UserHistory(String userId, int[] items, long[] timestamps) {
    public int length() {
      return items.length;
    }
  }

  private final IdMap items;
  private final List<UserHistory> users;
  private final boolean hasTimestamps;
  private final long events;
  private final long droppedEvents;

  private Dataset(IdMap items, List<UserHistory> users, boolean hasTimestamps,
      long droppedEvents) {
    this.items = items;
    this.users = Collections.unmodifiableList(users);
    this.hasTimestamps = hasTimestamps;
    this.events = users.stream().mapToLong(UserHistory::length).sum();
    this.droppedEvents = droppedEvents;
  }

  /**
   * Builds the dataset.
   *
   * @param kCore drop users and items with fewer than this many events, repeatedly; ≤ 1 keeps all
   */
  public static Dataset build(List<Interaction> interactions, int kCore) {
    // 1. group by user
    Map<String, List<Interaction>> byUser = new LinkedHashMap<>();
    boolean timestamps = !interactions.isEmpty();
    for (Interaction e : interactions) {
      byUser.computeIfAbsent(e.userId(), k -> new ArrayList<>()).add(e);
      timestamps &= e.hasTimestamp();
    }
    // 2. chronological, stable on ties (List.sort is a stable merge sort)
    if (timestamps) {
      for (List<Interaction> h : byUser.values()) {
        h.sort((a, b) -> Long.compare(a.timestamp(), b.timestamp()));
      }
    }
    // 3. k-core
    if (kCore > 1) {
      kCore(byUser, kCore);
    }
    // 4. dense item indices in (user, time) order
    IdMap.Builder itemIds = new IdMap.Builder();
    List<UserHistory> users = new ArrayList<>(byUser.size());
    for (Map.Entry<String, List<Interaction>> u : byUser.entrySet()) {
      List<Interaction> h = u.getValue();
      int[] items = new int[h.size()];
      long[] times = new long[h.size()];
      for (int i = 0; i < items.length; i++) {
        items[i] = itemIds.add(h.get(i).itemId());
        times[i] = h.get(i).timestamp();
      }
      users.add(new UserHistory(u.getKey(), items, times));
    }
    return new Dataset(itemIds.build(), users, timestamps, 0);
  }

  private static void kCore(Map<String, List<Interaction>> byUser, int k) {
    boolean changed = true;
    while (changed) {
      changed = false;
      Map<String, Integer> itemCounts = new HashMap<>();
      for (List<Interaction> h : byUser.values()) {
        for (Interaction e : h) {
          itemCounts.merge(e.itemId(), 1, Integer::sum);
        }
      }
      var users = byUser.entrySet().iterator();
      while (users.hasNext()) {
        List<Interaction> h = users.next().getValue();
        int before = h.size();
        h.removeIf(e -> itemCounts.get(e.itemId()) < k);
        if (h.size() != before) {
          changed = true;
        }
        if (h.size() < k) {
          users.remove();
          changed = true;
        }
      }
    }
  }

  /**
   * The same histories over another item index (a trained model's): events whose item the map does
   * not know are dropped, and users left with no events too.
   *
   * @return the remapped dataset; {@link #droppedEvents()} counts what was dropped
   */
  public Dataset withItemIds(IdMap itemIds) {
    List<UserHistory> remapped = new ArrayList<>();
    long dropped = 0;
    for (UserHistory u : users) {
      int[] items = new int[u.length()];
      long[] times = new long[u.length()];
      int n = 0;
      for (int i = 0; i < u.length(); i++) {
        int index = itemIds.indexOf(this.items.id(u.items()[i]));
        if (index < 0) {
          dropped++;
          continue;
        }
        items[n] = index;
        times[n++] = u.timestamps()[i];
      }
      if (n > 0) {
        remapped.add(new UserHistory(u.userId(), Arrays.copyOf(items, n), Arrays.copyOf(times, n)));
      }
    }
    return new Dataset(itemIds, remapped, hasTimestamps, dropped);
  }

  /** Events dropped by {@link #withItemIds} because their item was unknown. */
  public long droppedEvents() {
    return droppedEvents;
  }

  /** Item ids ↔ indices. */
  public IdMap items() {
    return items;
  }

  public List<UserHistory> users() {
    return users;
  }

  public boolean hasTimestamps() {
    return hasTimestamps;
  }

  public long events() {
    return events;
  }

  /** How often each item occurs, by index. */
  public long[] itemCounts() {
    long[] counts = new long[items.size()];
    for (UserHistory u : users) {
      for (int item : u.items()) {
        counts[item]++;
      }
    }
    return counts;
  }

  @Override
  public String toString() {
    int longest = users.stream().mapToInt(UserHistory::length).max().orElse(0);
    return String.format("%d users, %d items, %d events (mean %.1f, max %d per user)%s",
        users.size(), items.size(), events, users.isEmpty() ? 0.0 : (double) events / users.size(),
        longest, hasTimestamps ? "" : ", no timestamps");
  }

  /** For tests: the histories' item ids, in order. */
  List<List<String>> itemIdsByUser() {
    List<List<String>> out = new ArrayList<>();
    for (UserHistory u : users) {
      out.add(Arrays.stream(u.items()).mapToObj(items::id).toList());
    }
    return out;
  }
}
