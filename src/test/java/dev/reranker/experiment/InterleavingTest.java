package dev.reranker.experiment;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reranker.experiment.stats.Preference;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Team-Draft Interleaving: the drafting rules, the credit, the sign test. */
class InterleavingTest {

  @Test
  void draftsAlternateTeamsSkipDuplicatesAndCreditTheContributor() {
    List<String> a = List.of("x", "y", "z", "w");
    List<String> b = List.of("y", "v", "x", "u");
    SplittableRandom coin = new SplittableRandom(1);
    for (int trial = 0; trial < 50; trial++) {
      TeamDraftInterleaving.Interleaved il = TeamDraftInterleaving.interleave(a, b, 4, coin);
      assertThat(il.items()).hasSize(4).doesNotHaveDuplicates();
      // after every pair of picks the teams are level: neither arm gets more than one ahead
      long fromA = il.teams().stream().filter(t -> t == TeamDraftInterleaving.Team.A).count();
      assertThat(fromA).isEqualTo(2);
      // each team's items appear in that team's own order
      List<String> mineA = new ArrayList<>();
      List<String> mineB = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        (il.teams().get(i) == TeamDraftInterleaving.Team.A ? mineA : mineB).add(il.items().get(i));
      }
      assertThat(a).containsSubsequence(mineA);
      assertThat(b).containsSubsequence(mineB);
      // the first item is one arm's top choice
      assertThat(il.items().get(0)).isIn("x", "y");
      assertThat(il.credit(il.items().get(0))).isEqualTo(il.teams().get(0));
      assertThat(il.credit("not-served")).isNull();
    }
    // identical rankings: both teams, the same list as either
    TeamDraftInterleaving.Interleaved same = TeamDraftInterleaving.interleave(a, a, 4, coin);
    assertThat(same.items()).isEqualTo(a);
    // short rankings: as many as there are
    assertThat(TeamDraftInterleaving.interleave(List.of("p"), List.of("q"), 5, coin).items())
        .containsExactlyInAnyOrder("p", "q");
  }

  @Test
  void theSignTestMatchesTheBinomial() {
    // 15 of 20 users prefer A: P(X ≥ 15 or ≤ 5), X ~ Bin(20, ½) = 0.041389
    Preference p = new Preference(15, 5, 7);
    assertThat(p.p()).isCloseTo(0.0413894653, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(p.delta()).isCloseTo(10 / 27.0, org.assertj.core.data.Offset.offset(1e-12));
    assertThat(new Preference(10, 10, 0).p()).isEqualTo(1.0);
    double[] ci = p.shareOfAInterval();
    assertThat(ci[0]).isLessThan(0.75).isGreaterThan(0.5);
    assertThat(ci[1]).isGreaterThan(0.75);
  }
}
