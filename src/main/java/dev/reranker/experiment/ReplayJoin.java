package dev.reranker.experiment;

import dev.reranker.data.Interaction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The outcome join recomputed offline from the records themselves — the exposures and the
 * interactions, read from the beginning — by a second, independent bookkeeping of the same rule:
 * per user, the records in time order (an exposure before an interaction of the same
 * millisecond); each exposure resolves on the user's first interaction at or after it, as {@link
 * Resolution} says (the rule the live join applies: rank, horizon, interleaving credit), a miss if
 * the horizon passed before {@code now}, still pending otherwise. Each user's {@link UserTotals}
 * are summed directly and added to the statistics once ({@link ArmAggregate#addUser}; the live
 * join moves them by deltas in event order, from a store), so agreement checks the live join's
 * ordering, stores and bookkeeping rather than repeating them.
 */
public final class ReplayJoin {
  private ReplayJoin() {}

  private record Event(long time, int order, Exposure exposure, Interaction interaction) {}

  /** A record as read from a topic: its key and value. */
  public record KeyedRecord(String key, byte[] value) {}

  /**
   * Replays from the exposure records and the interactions the engine accepted.
   *
   * <p>Exposures, with the rules the live join applies to what it reads: one counts when it
   * parses, its key is its user and it names an arm, an experiment, a served list and k ≥ 1, once
   * per (user, served time, request id); the others are counted in {@link
   * Replayed#skippedExposures}. Interactions: only those the ingestion applied, as the live join
   * sees only those; the caller decides which (the {@code experiment replay} command applies the
   * ingestion's own rule to the raw topic) and says how many it left out and why.
   *
   * @param accepted the applied events, each user's in the order they were applied
   * @param ignored per reason, the interactions records left out
   */
  public static Replayed fromRecords(List<KeyedRecord> exposureRecords,
      List<Interaction> accepted, Map<String, Long> ignored, Duration horizon, long now) {
    List<Exposure> exposures = new ArrayList<>();
    java.util.Set<List<Object>> seen = new java.util.HashSet<>();
    long skippedE = 0;
    for (KeyedRecord r : exposureRecords) {
      Exposure e;
      try {
        e = r.value() == null ? null : OutcomeStores.exposure(r.value());
      } catch (RuntimeException ex) {
        e = null;
      }
      if (e == null || !OutcomeJoin.joinable(e, r.key())) {
        skippedE++;
        continue;
      }
      if (seen.add(java.util.Arrays.asList(e.userId(), e.timestamp(), e.requestId()))) {
        exposures.add(e);
      }
    }
    return new Replayed(replay(exposures, accepted, horizon, now), exposures.size(),
        accepted.size(), skippedE, new java.util.TreeMap<>(ignored));
  }

  /** A replay's aggregates and what it read. */
  public record Replayed(Map<OutcomeJoin.Key, ArmAggregate> aggregates, long exposures,
      long interactions, long skippedExposures, Map<String, Long> ignoredInteractions) {

    /** Interactions records the ingestion did not apply, all reasons together. */
    public long skippedInteractions() {
      return ignoredInteractions.values().stream().mapToLong(Long::longValue).sum();
    }

    /** One experiment's aggregates, per arm. */
    public Map<ArmChoice, ArmAggregate> of(String experiment) {
      Map<ArmChoice, ArmAggregate> out = new java.util.EnumMap<>(ArmChoice.class);
      aggregates.forEach((k, a) -> {
        if (k.experiment().equals(experiment)) {
          out.put(k.arm(), a);
        }
      });
      return out;
    }
  }

  public static Map<OutcomeJoin.Key, ArmAggregate> replay(List<Exposure> exposures,
      List<Interaction> interactions, Duration horizon, long now) {
    Map<String, List<Event>> byUser = new HashMap<>();
    Map<OutcomeJoin.Key, ArmAggregate> out = new HashMap<>();
    for (Exposure e : exposures) {
      if (e.error()) { // a failed request: counted, nothing to resolve
        out.computeIfAbsent(new OutcomeJoin.Key(e.experiment(), e.arm()),
            k -> new ArmAggregate()).exposed(e);
        continue;
      }
      byUser.computeIfAbsent(e.userId(), u -> new ArrayList<>())
          .add(new Event(e.timestamp(), 0, e, null));
    }
    for (Interaction i : interactions) {
      byUser.computeIfAbsent(i.userId(), u -> new ArrayList<>())
          .add(new Event(i.timestamp(), 1, null, i));
    }
    // (experiment, arm, user) → the user's totals, and their misses at the horizon
    Map<List<Object>, UserTotals> totals = new HashMap<>();
    Map<List<Object>, Long> misses = new HashMap<>();
    long horizonMs = horizon.toMillis();
    for (List<Event> events : byUser.values()) {
      events.sort(Comparator.comparingLong(Event::time).thenComparingInt(Event::order));
      List<Exposure> pending = new ArrayList<>();
      for (Event ev : events) {
        if (ev.exposure() != null) {
          pending.add(ev.exposure());
          out.computeIfAbsent(new OutcomeJoin.Key(ev.exposure().experiment(),
              ev.exposure().arm()), k -> new ArmAggregate()).exposed(ev.exposure());
          continue;
        }
        for (Exposure e : pending) {
          add(totals, misses, e, Resolution.byInteraction(e, ev.interaction().itemId(),
              ev.time(), horizonMs));
        }
        pending.clear();
      }
      for (Exposure e : pending) {
        if (Resolution.pastHorizon(e.timestamp(), now, horizonMs)) {
          add(totals, misses, e, Resolution.miss(e, now));
        }
      }
    }
    totals.forEach((key, t) -> {
      ArmChoice arm = (ArmChoice) key.get(1);
      out.get(new OutcomeJoin.Key((String) key.get(0), arm)).addUser(arm, t,
          misses.getOrDefault(key, 0L));
    });
    return out;
  }

  private static void add(Map<List<Object>, UserTotals> totals, Map<List<Object>, Long> misses,
      Exposure e, Resolution r) {
    List<Object> key = List.of(e.experiment(), e.arm(), e.userId());
    totals.compute(key, (k, t) -> (t == null ? UserTotals.NONE : t).plus(r));
    if (r.expired()) {
      misses.merge(key, 1L, Long::sum);
    }
  }
}
