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
 * interactions, read from the beginning — by a second, independent implementation: per user, the
 * records in time order (an exposure before an interaction of the same millisecond); each
 * exposure's outcome is the user's first interaction at or after it within the horizon, a miss if
 * the horizon passed before {@code now}, still pending otherwise. Per-user totals are summed
 * directly and added to the statistics once per user (the live join updates them by deltas), so
 * agreement checks the live join's bookkeeping rather than repeating it.
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
        e = r.value() == null ? null : OutcomeJoin.JSON.readValue(r.value(), Exposure.class);
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
    // (experiment, arm, user) → {hits, ndcg, reciprocal rank, resolved}
    Map<List<Object>, double[]> totals = new HashMap<>();
    Map<OutcomeJoin.Key, Long> misses = new HashMap<>();
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
          boolean expired = e.timestamp() < ev.time() - horizon.toMillis();
          add(totals, misses, e, expired ? 0 : e.served().indexOf(ev.interaction().itemId()) + 1,
              expired);
        }
        pending.clear();
      }
      for (Exposure e : pending) {
        if (e.timestamp() < now - horizon.toMillis()) {
          add(totals, misses, e, 0, true);
        }
      }
    }
    totals.forEach((key, t) -> {
      ArmAggregate a = out.get(new OutcomeJoin.Key((String) key.get(0), (ArmChoice) key.get(1)));
      a.hits.addUser(t[0], t[3]);
      a.ndcg.addUser(t[1], t[3]);
      a.reciprocalRank.addUser(t[2], t[3]);
      if (key.get(1) == ArmChoice.INTERLEAVED) { // each user's preference, from their credits
        a.creditsPerformer += (long) t[4];
        a.creditsSoftmax += (long) t[5];
        a.preferenceMoved(null, Long.compare((long) t[4], (long) t[5]));
      }
    });
    misses.forEach((k, n) -> out.get(k).resolvedAsMiss += n);
    return out;
  }

  private static void add(Map<List<Object>, double[]> totals, Map<OutcomeJoin.Key, Long> misses,
      Exposure e, int rank, boolean expired) {
    OutcomeTracker.Outcome o = new OutcomeTracker.Outcome(e.arm(), rank, e.k(), e.timestamp());
    double[] t = totals.computeIfAbsent(List.of(e.experiment(), e.arm(), e.userId()),
        k -> new double[6]);
    if (e.teams() != null && !expired && rank > 0 && rank <= e.teams().size()) {
      t[e.teams().get(rank - 1) == ArmChoice.PERFORMER ? 4 : 5] += 1;
    }
    t[0] += o.hit() ? 1 : 0;
    t[1] += o.ndcg();
    t[2] += o.reciprocalRank();
    t[3] += 1;
    if (expired) {
      misses.merge(new OutcomeJoin.Key(e.experiment(), e.arm()), 1L, Long::sum);
    }
  }
}
