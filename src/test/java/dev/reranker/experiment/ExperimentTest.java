package dev.reranker.experiment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ExperimentTest {

  static final Map<ArmChoice, Double> HALF = Map.of(ArmChoice.PERFORMER, 50.0, ArmChoice.SOFTMAX,
      50.0);

  @Test
  void assignmentIsDeterministicStickyAndFollowsTheWeights() {
    Experiment e = Experiment.create("exp", "salt-1", HALF, false, 10);
    Experiment again = Experiment.create("exp", "salt-1", HALF, false, 10);
    Map<ArmChoice, Integer> counts = new HashMap<>();
    for (int u = 0; u < 20_000; u++) {
      ArmChoice a = e.assign("user-" + u);
      assertThat(again.assign("user-" + u)).isEqualTo(a);
      counts.merge(a, 1, Integer::sum);
    }
    assertThat(counts.get(ArmChoice.PERFORMER)).isBetween(9_600, 10_400);
    // another salt shuffles users independently
    Experiment other = Experiment.create("exp", "salt-2", HALF, false, 10);
    long same = java.util.stream.IntStream.range(0, 20_000)
        .filter(u -> other.assign("user-" + u) == e.assign("user-" + u)).count();
    assertThat(same).isBetween(9_500L, 10_500L);
  }

  @Test
  void raisingOneArmNeverMovesUsersOutOfAnotherArmsKeptShare() {
    Experiment start = Experiment.create("exp", "s", Map.of(ArmChoice.PERFORMER, 10.0,
        ArmChoice.SOFTMAX, 60.0, ArmChoice.FALLBACK, 30.0), false, 10);
    // performer grows to 40: softmax shrinks to 30, fallback keeps 30
    Experiment next = start.withWeights(Map.of(ArmChoice.PERFORMER, 40.0, ArmChoice.SOFTMAX,
        30.0, ArmChoice.FALLBACK, 30.0), false);
    assertThat(next.allocation().counts()).containsEntry(ArmChoice.PERFORMER, 4_000)
        .containsEntry(ArmChoice.SOFTMAX, 3_000).containsEntry(ArmChoice.FALLBACK, 3_000);
    int movedFromFallback = 0;
    int stayedPerformer = 0;
    int performerBefore = 0;
    for (int b = 0; b < BucketAllocation.BUCKETS; b++) {
      ArmChoice before = start.allocation().arm(b);
      ArmChoice after = next.allocation().arm(b);
      if (before == ArmChoice.FALLBACK && after != ArmChoice.FALLBACK) {
        movedFromFallback++;
      }
      if (before == ArmChoice.PERFORMER) {
        performerBefore++;
        stayedPerformer += after == ArmChoice.PERFORMER ? 1 : 0;
      }
      if (before == ArmChoice.SOFTMAX && after != ArmChoice.SOFTMAX) {
        assertThat(after).isEqualTo(ArmChoice.PERFORMER); // only to the arm that grew
      }
    }
    assertThat(movedFromFallback).isZero();
    assertThat(stayedPerformer).isEqualTo(performerBefore);
    // and back: a rollback returns softmax's share without touching fallback
    Experiment back = next.withWeights(Map.of(ArmChoice.PERFORMER, 10.0, ArmChoice.SOFTMAX, 60.0,
        ArmChoice.FALLBACK, 30.0), false);
    for (int b = 0; b < BucketAllocation.BUCKETS; b++) {
      if (next.allocation().arm(b) == ArmChoice.FALLBACK) {
        assertThat(back.allocation().arm(b)).isEqualTo(ArmChoice.FALLBACK);
      }
    }
  }

  @Test
  void badDefinitionsAreRefused() {
    assertThatThrownBy(() -> Experiment.create("bad id!", null, HALF, false, 10))
        .hasMessageContaining("experiment id");
    assertThatThrownBy(() -> Experiment.create("e", null, Map.of(ArmChoice.PERFORMER, -1.0),
        false, 10)).hasMessageContaining("≥ 0");
    assertThatThrownBy(() -> Experiment.create("e", null, Map.of(ArmChoice.PERFORMER, 0.0),
        false, 10)).hasMessageContaining("at least one arm");
    assertThatThrownBy(() -> ArmChoice.parse("random")).hasMessageContaining("accepted");
  }

  @Test
  void agreementOfIdenticalAndReversedLists() {
    List<String> a = List.of("a", "b", "c", "d");
    ShadowAgreement.Agreement same = ShadowAgreement.compare(a, a, 4, 1, 2,
        ArmChoice.PERFORMER);
    assertThat(same.overlapAtK()).isEqualTo(1.0);
    assertThat(same.kendallTau()).isEqualTo(1.0);
    ShadowAgreement.Agreement reversed = ShadowAgreement.compare(a, List.of("d", "c", "b", "a"),
        4, 1, 2, ArmChoice.PERFORMER);
    assertThat(reversed.kendallTau()).isEqualTo(-1.0);
    ShadowAgreement.Agreement half = ShadowAgreement.compare(a, List.of("a", "x", "b", "y"), 2,
        1, 2, ArmChoice.PERFORMER);
    assertThat(half.overlapAtK()).isEqualTo(0.5);
  }

  @Test
  void theResolutionRuleRanksCreditsAndExpires() {
    Exposure e = new Exposure("r1", "e", "u", ArmChoice.INTERLEAVED, "v", List.of("a", "b", "c"),
        1_000, 2.0, 100, false, 2, false,
        List.of(ArmChoice.PERFORMER, ArmChoice.SOFTMAX, ArmChoice.PERFORMER), 0, false);
    long horizon = 10_000;
    Resolution b = Resolution.byInteraction(e, "b", 2_000, horizon);
    assertThat(b.rank()).isEqualTo(2);
    assertThat(b.hit()).isTrue();
    assertThat(b.reciprocalRank()).isEqualTo(0.5);
    assertThat(b.ndcg()).isCloseTo(1 / (Math.log(3) / Math.log(2)), within(1e-12));
    assertThat(b.team()).isEqualTo(ArmChoice.SOFTMAX);
    assertThat(b.itemId()).isEqualTo("b");
    Resolution c = Resolution.byInteraction(e, "c", 2_000, horizon); // served, beyond k = 2
    assertThat(c.hit()).isFalse();
    assertThat(c.ndcg()).isZero();
    assertThat(c.reciprocalRank()).isCloseTo(1 / 3.0, within(1e-12));
    assertThat(c.team()).isEqualTo(ArmChoice.PERFORMER); // credit counts the whole list
    Resolution unserved = Resolution.byInteraction(e, "z", 2_000, horizon);
    assertThat(unserved.rank()).isZero();
    assertThat(unserved.team()).isNull();
    // exactly at the horizon still counts; one millisecond later is a miss without an item
    assertThat(Resolution.byInteraction(e, "a", 1_000 + horizon, horizon).rank()).isEqualTo(1);
    Resolution late = Resolution.byInteraction(e, "a", 1_001 + horizon, horizon);
    assertThat(late.expired()).isTrue();
    assertThat(late.rank()).isZero();
    assertThat(late.itemId()).isNull();
    assertThat(late.team()).isNull();

    UserTotals t = UserTotals.NONE.plus(b).plus(c).plus(late);
    assertThat(t.resolved()).isEqualTo(3);
    assertThat(t.hits()).isEqualTo(1);
    assertThat(t.reciprocalRank()).isCloseTo(0.5 + 1 / 3.0, within(1e-12));
    assertThat(t.creditsPerformer()).isEqualTo(1);
    assertThat(t.creditsSoftmax()).isEqualTo(1);
    assertThat(t.preference()).isZero();
    assertThat(UserTotals.NONE.preference()).isNull();
    // the store's layout round-trips, with the credits on the interleaved arm only
    assertThat(OutcomeStores.totals(OutcomeStores.totals(t, ArmChoice.INTERLEAVED)))
        .isEqualTo(t);
    assertThat(OutcomeStores.totals(t, ArmChoice.PERFORMER)).hasSize(32);
    assertThat(OutcomeStores.totals(OutcomeStores.totals(t, ArmChoice.PERFORMER)))
        .isEqualTo(new UserTotals(t.hits(), t.ndcg(), t.reciprocalRank(), t.resolved(), 0, 0));
    assertThat(OutcomeStores.totals((byte[]) null)).isEqualTo(UserTotals.NONE);
  }

  @Test
  void pendingKeysOrderByUserThenServedTime() {
    var early = OutcomeStores.pendingKey("u", -5, "z");
    var late = OutcomeStores.pendingKey("u", 7, "a");
    assertThat(early.compareTo(late)).isNegative(); // sign-flipped: negative times first
    assertThat(OutcomeStores.servedTime(early)).isEqualTo(-5);
    assertThat(OutcomeStores.servedTime(late)).isEqualTo(7);
    var recent = List.of(new OutcomeStores.Recent(3, "a"), new OutcomeStores.Recent(9, "ü"));
    assertThat(OutcomeStores.recent(OutcomeStores.recent(recent))).isEqualTo(recent);
    var key = new OutcomeJoin.Key("exp", ArmChoice.SOFTMAX);
    byte[] series = OutcomeStores.seriesKey(key, 3_600_000);
    assertThat(OutcomeStores.seriesAggregateKey(series)).isEqualTo(key);
    assertThat(OutcomeStores.seriesBucket(series)).isEqualTo(3_600_000);
    assertThat(OutcomeStores.aggregateKey(OutcomeStores.aggregateKey(key))).isEqualTo(key);
  }

  @Test
  void shadowAgreementKeepsABoundedWindow() {
    ShadowAgreement s = new ShadowAgreement(5);
    assertThat(s.summary("e")).isNull();
    for (int i = 0; i < 12; i++) {
      s.add("e", new ShadowAgreement.Agreement(i < 10 ? 1 : 0, 1, i, 2 * i,
          ArmChoice.PERFORMER));
    }
    assertThat(s.recent("e")).hasSize(5);
    assertThat(s.recent("e").get(0).servedMs()).isEqualTo(7.0); // the last five, oldest first
    Map<String, Object> summary = s.summary("e");
    assertThat(summary.get("requests")).isEqualTo(5);
    assertThat(summary.get("requests_since_start")).isEqualTo(12L);
    assertThat((Double) summary.get("mean_overlap_at_k")).isCloseTo(0.6, within(1e-9));
    assertThat(summary.get("served_ms_p50")).isEqualTo(9.0);
    assertThat(summary.get("shadow_ms_p50")).isEqualTo(18.0);
    assertThat(s.summary("other")).isNull();
    assertThatThrownBy(() -> new ShadowAgreement(0)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void sharedExperimentsRoundTripWithTheirBucketTableAndBadRecordsAreRefused() {
    Experiment e = Experiment.create("x", "salt-1", Map.of(ArmChoice.PERFORMER, 80.0,
        ArmChoice.SOFTMAX, 20.0), true, 7).withWeights(Map.of(ArmChoice.PERFORMER, 30.0,
        ArmChoice.SOFTMAX, 60.0, ArmChoice.FALLBACK, 10.0), true);
    Experiment back = ExperimentLog.fromJson(ExperimentLog.toJson(e));
    assertThat(back.allocation().encode()).isEqualTo(e.allocation().encode());
    // the table is history-dependent: a fresh allocation for the same weights differs
    assertThat(BucketAllocation.of(e.weights()).encode()).isNotEqualTo(e.allocation().encode());
    assertThat(back.id()).isEqualTo("x");
    assertThat(back.salt()).isEqualTo("salt-1");
    assertThat(back.weights()).isEqualTo(e.weights());
    assertThat(back.shadow()).isTrue();
    assertThat(back.k()).isEqualTo(7);
    for (int u = 0; u < 500; u++) {
      assertThat(back.assign("user-" + u)).isEqualTo(e.assign("user-" + u));
    }

    String good = ExperimentLog.toJson(e);
    String table = e.allocation().encode();
    for (String bad : List.of("not json", "[]", "{}",
        good.replace("\"version\":1", "\"version\":2"),
        good.replace(table, table.substring(1)),
        good.replace(table, "9" + table.substring(1)),
        good.replace("\"performer\"", "\"transformer\""),
        good.replace("30.0", "-30.0"),
        good.replace("\"k\":7", "\"k\":0"),
        good.replace("\"id\":\"x\"", "\"id\":\"no spaces allowed\""))) {
      assertThatThrownBy(() -> ExperimentLog.fromJson(bad)).as(bad.length() > 80
          ? bad.substring(0, 80) : bad).isInstanceOf(IllegalArgumentException.class);
    }
  }
}
