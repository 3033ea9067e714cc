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

  public static Map<OutcomeJoin.Key, ArmAggregate> replay(List<Exposure> exposures,
      List<Interaction> interactions, Duration horizon, long now) {
    Map<String, List<Event>> byUser = new HashMap<>();
    for (Exposure e : exposures) {
      byUser.computeIfAbsent(e.userId(), u -> new ArrayList<>())
          .add(new Event(e.timestamp(), 0, e, null));
    }
    for (Interaction i : interactions) {
      byUser.computeIfAbsent(i.userId(), u -> new ArrayList<>())
          .add(new Event(i.timestamp(), 1, null, i));
    }
    Map<OutcomeJoin.Key, ArmAggregate> out = new HashMap<>();
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
    });
    misses.forEach((k, n) -> out.get(k).resolvedAsMiss += n);
    return out;
  }

  private static void add(Map<List<Object>, double[]> totals, Map<OutcomeJoin.Key, Long> misses,
      Exposure e, int rank, boolean expired) {
    OutcomeTracker.Outcome o = new OutcomeTracker.Outcome(e.arm(), rank, e.k(), e.timestamp());
    double[] t = totals.computeIfAbsent(List.of(e.experiment(), e.arm(), e.userId()),
        k -> new double[4]);
    t[0] += o.hit() ? 1 : 0;
    t[1] += o.ndcg();
    t[2] += o.reciprocalRank();
    t[3] += 1;
    if (expired) {
      misses.merge(new OutcomeJoin.Key(e.experiment(), e.arm()), 1L, Long::sum);
    }
  }
}
