package dev.reranker.experiment;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * Team-Draft Interleaving (Radlinski, Kurup &amp; Joachims, CIKM 2008; Chapelle et al., TOIS
 * 2012): both model arms rank the same candidates, and the served list is drafted from the two
 * like picking teams — whichever arm has contributed fewer items (a coin decides ties) adds its
 * best item not yet in the list. Every served item belongs to the team that added it; the user's
 * next interaction with a served item credits that team. Each user thus compares both arms
 * themselves, which removes the between-user variance an A/B test must average away.
 */
public final class TeamDraftInterleaving {
  private TeamDraftInterleaving() {}

  /** Which arm contributed a served item. */
  public enum Team {
    A,
    B
  }

  /**
   * The served list and the team of each position.
   *
   * @param items the interleaved ranking (at most k, no duplicates)
   * @param teams {@code teams.get(i)} contributed {@code items.get(i)}
   */
  public record Interleaved(List<String> items, List<Team> teams) {
    public Interleaved {
      items = List.copyOf(items);
      teams = List.copyOf(teams);
      if (items.size() != teams.size()) {
        throw new IllegalArgumentException("one team per item");
      }
    }

    /** The team credited for an interaction with {@code itemId}; null if it was not served. */
    public Team credit(String itemId) {
      int at = items.indexOf(itemId);
      return at < 0 ? null : teams.get(at);
    }
  }

  /**
   * Interleaves two rankings of the same candidates into at most {@code k} items.
   *
   * @param a arm A's ranking, best first
   * @param b arm B's ranking, best first
   * @param coin decides which team picks first when both have contributed equally
   */
  public static Interleaved interleave(List<String> a, List<String> b, int k,
      RandomGenerator coin) {
    Objects.requireNonNull(coin, "coin");
    if (k < 0) {
      throw new IllegalArgumentException("k must be ≥ 0, got " + k);
    }
    List<String> items = new ArrayList<>();
    List<Team> teams = new ArrayList<>();
    Set<String> used = new HashSet<>();
    int ia = 0;
    int ib = 0;
    int fromA = 0;
    int fromB = 0;
    while (items.size() < k) {
      while (ia < a.size() && used.contains(a.get(ia))) {
        ia++;
      }
      while (ib < b.size() && used.contains(b.get(ib))) {
        ib++;
      }
      boolean aLeft = ia < a.size();
      boolean bLeft = ib < b.size();
      if (!aLeft && !bLeft) {
        break;
      }
      boolean pickA = aLeft && (!bLeft || fromA < fromB || (fromA == fromB && coin.nextBoolean()));
      String item = pickA ? a.get(ia) : b.get(ib);
      used.add(item);
      items.add(item);
      teams.add(pickA ? Team.A : Team.B);
      if (pickA) {
        fromA++;
      } else {
        fromB++;
      }
    }
    return new Interleaved(items, teams);
  }
}
