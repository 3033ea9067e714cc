package dev.reranker.serving;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reranker.experiment.ArmAggregate;
import dev.reranker.experiment.ArmChoice;
import dev.reranker.experiment.Exposure;
import dev.reranker.experiment.OutcomeJoin;
import dev.reranker.experiment.ReplayJoin;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Adding up the partitions' shares: totals summed, and a chart point per bucket where a partition
 * that wrote nothing in that bucket (nothing changed there) counts with its last earlier point.
 */
class ExperimentAggregatesTest {

  /** An aggregate of {@code n} performer exposures (through the public replay). */
  private static ArmAggregate exposures(int n) {
    List<Exposure> list = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      list.add(new Exposure("r" + n + "-" + i, "exp", "u" + i, ArmChoice.PERFORMER, "v",
          List.of("a"), 1_000 + i, 1, 100, false, 10, false, null, 0, false));
    }
    return ReplayJoin.replay(list, List.of(), Duration.ofHours(24), 2_000)
        .get(new OutcomeJoin.Key("exp", ArmChoice.PERFORMER));
  }

  private static NavigableMap<Long, ArmAggregate> points(Object... bucketAndAggregate) {
    NavigableMap<Long, ArmAggregate> m = new TreeMap<>();
    for (int i = 0; i < bucketAndAggregate.length; i += 2) {
      m.put((Long) bucketAndAggregate[i], (ArmAggregate) bucketAndAggregate[i + 1]);
    }
    return m;
  }

  @Test
  void aPartitionSilentInABucketCountsWithItsLastPoint() {
    Map<Integer, ExperimentAggregates.PartitionShare> shares = new TreeMap<>();
    shares.put(0, new ExperimentAggregates.PartitionShare(0, Map.of(ArmChoice.PERFORMER,
        exposures(5)), Map.of(ArmChoice.PERFORMER, points(100L, exposures(2), 300L,
        exposures(5)))));
    shares.put(1, new ExperimentAggregates.PartitionShare(1, Map.of(ArmChoice.PERFORMER,
        exposures(7)), Map.of(ArmChoice.PERFORMER, points(200L, exposures(7)))));
    ExperimentAggregates.Assembled all = ExperimentAggregates.combine(shares, Set.of(),
        List.of());
    assertThat(all.totals().get(ArmChoice.PERFORMER).exposures()).isEqualTo(12);
    assertThat(all.series().keySet()).containsExactly(100L, 200L, 300L);
    // 100: only partition 0 had begun; 200: 0's point of 100 carried forward, 1's own; 300: 0's
    // own, 1's point of 200 carried forward
    assertThat(all.series().get(100L).get(ArmChoice.PERFORMER).exposures()).isEqualTo(2);
    assertThat(all.series().get(200L).get(ArmChoice.PERFORMER).exposures()).isEqualTo(9);
    assertThat(all.series().get(300L).get(ArmChoice.PERFORMER).exposures()).isEqualTo(12);
    assertThat(all.complete()).isTrue();
    assertThat(ExperimentAggregates.combine(shares, Set.of(2), List.of()).complete()).isFalse();
  }

  @Test
  void sharesSurviveTheirWayBetweenInstances() {
    ExperimentAggregates.PartitionShare share = new ExperimentAggregates.PartitionShare(3,
        Map.of(ArmChoice.PERFORMER, exposures(4)), Map.of(ArmChoice.PERFORMER,
        points(100L, exposures(4))), Map.of("future_timestamp", 2L, "duplicate_event_id", 5L));
    ExperimentAggregates.InstanceShare back = ExperimentAggregates.fromJson(
        ExperimentAggregates.toJson(List.of(share), Map.of(ArmChoice.PERFORMER,
            new long[] {10, 20_000}), 7));
    assertThat(back.unpublished()).isEqualTo(7);
    assertThat(back.partitions().get(0).ignored()).isEqualTo(Map.of("future_timestamp", 2L,
        "duplicate_event_id", 5L));
    assertThat(back.partitions()).singleElement().satisfies(p -> {
      assertThat(p.partition()).isEqualTo(3);
      assertThat(p.totals().get(ArmChoice.PERFORMER).exposures()).isEqualTo(4);
      assertThat(p.series().get(ArmChoice.PERFORMER).get(100L).exposures()).isEqualTo(4);
    });
    assertThat(back.fold().get(ArmChoice.PERFORMER)).containsExactly(10, 20_000);
  }
}
