package dev.reranker.experiment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
    OutcomeTracker.Agreement same = OutcomeTracker.compare(a, a, 4, 1, 2, ArmChoice.PERFORMER);
    assertThat(same.overlapAtK()).isEqualTo(1.0);
    assertThat(same.kendallTau()).isEqualTo(1.0);
    OutcomeTracker.Agreement reversed = OutcomeTracker.compare(a, List.of("d", "c", "b", "a"), 4,
        1, 2, ArmChoice.PERFORMER);
    assertThat(reversed.kendallTau()).isEqualTo(-1.0);
    OutcomeTracker.Agreement half = OutcomeTracker.compare(a, List.of("a", "x", "b", "y"), 2, 1,
        2, ArmChoice.PERFORMER);
    assertThat(half.overlapAtK()).isEqualTo(0.5);
  }

  @Test
  void statisticsMatchKnownValues() {
    double[] w = ExperimentReport.wilson(50, 100);
    assertThat(w[0]).isCloseTo(0.4038, org.assertj.core.data.Offset.offset(1e-4));
    assertThat(w[1]).isCloseTo(0.5962, org.assertj.core.data.Offset.offset(1e-4));
    assertThat(ExperimentReport.normalCdf(1.959964)).isCloseTo(0.975,
        org.assertj.core.data.Offset.offset(1e-6));
    Map<String, Object> z = ExperimentReport.twoProportion(60, 100, 40, 100);
    assertThat((Double) z.get("z")).isCloseTo(2.8284, org.assertj.core.data.Offset.offset(1e-3));
    assertThat((Double) z.get("p_value")).isCloseTo(0.00468,
        org.assertj.core.data.Offset.offset(1e-4));
  }

  @Test
  void outcomesJoinTheNextInteractionOnly() {
    OutcomeTracker t = new OutcomeTracker();
    t.exposed(new Exposure("r1", "e", "u", ArmChoice.PERFORMER, "v", List.of("a", "b", "c"),
        1_000, 2.0,
        100, false, 2, false, null, 0, false));
    t.interacted("u", "c", 500); // before the exposure: ignored
    t.interacted("other", "a", 2_000); // another user
    t.interacted("u", "b", 2_000); // the join: rank 2
    t.interacted("u", "a", 3_000); // already resolved
    List<OutcomeTracker.Outcome> o = t.outcomes("e");
    assertThat(o).hasSize(1);
    assertThat(o.get(0).rank()).isEqualTo(2);
    assertThat(o.get(0).hit()).isTrue();
    assertThat(o.get(0).reciprocalRank()).isEqualTo(0.5);
  }

  @Test
  void theTrackerKeepsABoundedWindowAndDropsPendingExposuresPastTheHorizon() {
    OutcomeTracker t = new OutcomeTracker(5);
    for (int i = 0; i < 12; i++) {
      t.exposed(new Exposure("r" + i, "e", "u" + i,
          i % 2 == 0 ? ArmChoice.PERFORMER : ArmChoice.SOFTMAX, "v",
          List.of("a", "b"), 1_000 + i, i, 100 + i, false, 2, false, null, 0, false));
      t.interacted("u" + i, "a", 2_000 + i);
      t.agreement("e", new OutcomeTracker.Agreement(1, 1, i, i, ArmChoice.PERFORMER));
    }
    assertThat(t.costs("e")).hasSize(5);
    assertThat(t.costs("e").get(0).tookMs()).isEqualTo(7.0); // the most recent five, oldest first
    assertThat(t.costs("e").get(4).stateBytes()).isEqualTo(111);
    assertThat(t.outcomes("e")).hasSize(5);
    assertThat(t.outcomes("e").get(4).timestamp()).isEqualTo(2_011);
    assertThat(t.agreements("e")).hasSize(5);
    assertThat(t.exposuresSeen("e")).isEqualTo(12);
    assertThat(t.outcomesSeen("e")).isEqualTo(12);
    Map<String, Object> report = ExperimentReport.build(Experiment.create("e", "salt",
        Map.of(ArmChoice.PERFORMER, 0.5, ArmChoice.SOFTMAX, 0.5), false, 2), t);
    assertThat(report.get("window")).isEqualTo(Map.of("capacity", 5, "exposures_seen", 12L,
        "outcomes_seen", 12L));

    // unresolved exposures wait one horizon, then a sweep drops them
    t.exposed(new Exposure("x", "e", "idle", ArmChoice.PERFORMER, "v", List.of("a"), 10_000, 1, 1,
        false, 1, false, null, 0, false));
    assertThat(t.pendingCount()).isEqualTo(1);
    t.sweep(10_000 + OutcomeTracker.HORIZON_MS);
    assertThat(t.pendingCount()).isEqualTo(1);
    t.sweep(10_001 + OutcomeTracker.HORIZON_MS);
    assertThat(t.pendingCount()).isZero();
    assertThatThrownBy(() -> new OutcomeTracker(0)).isInstanceOf(IllegalArgumentException.class);
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
