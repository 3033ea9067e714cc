package dev.reranker.experiment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reranker.testing.Seeds;
import java.util.EnumMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Properties of bucket allocation over random weights (zeros, tiny, up to the 1e9 limit): every
 * bucket has an arm, each arm's share is its exact share rounded (within one bucket), an arm of
 * weight 0 gets nothing, a rebalance moves the fewest users possible, and the encoded table
 * decodes to the same table.
 */
class BucketAllocationPropertyTest {

  static Map<ArmChoice, Double> weights(SplittableRandom r) {
    Map<ArmChoice, Double> w = new EnumMap<>(ArmChoice.class);
    for (ArmChoice a : ArmChoice.values()) {
      double v = switch (r.nextInt(5)) {
        case 0 -> 0.0;
        case 1 -> r.nextDouble() * 1e-6;
        case 2 -> r.nextDouble() * 1e9;
        default -> r.nextInt(101);
      };
      if (r.nextInt(4) > 0) {
        w.put(a, v);
      }
    }
    if (w.values().stream().noneMatch(v -> v > 0)) {
      w.put(ArmChoice.PERFORMER, 1.0);
    }
    return w;
  }

  static void assertShares(BucketAllocation allocation, Map<ArmChoice, Double> w) {
    Map<ArmChoice, Integer> counts = allocation.counts();
    double total = w.values().stream().mapToDouble(Double::doubleValue).sum();
    int sum = 0;
    for (ArmChoice a : ArmChoice.values()) {
      int c = counts.getOrDefault(a, 0);
      sum += c;
      double exact = w.getOrDefault(a, 0.0) / total * BucketAllocation.BUCKETS;
      assertThat(Math.abs(c - exact)).as("%s: %d buckets for an exact %.3f (weights %s)", a, c,
          exact, w).isLessThan(1.0);
      if (w.getOrDefault(a, 0.0) == 0) {
        assertThat(c).as("zero-weight %s (weights %s)", a, w).isZero();
      }
    }
    assertThat(sum).isEqualTo(BucketAllocation.BUCKETS);
    for (int b = 0; b < BucketAllocation.BUCKETS; b++) {
      assertThat(allocation.arm(b)).isNotNull();
    }
  }

  @Test
  void sharesAreExactWithinABucketAndRebalancesMoveTheFewestUsers() throws Exception {
    Seeds.forAll("BucketAllocationPropertyTest", 400, (r, i) -> {
      Map<ArmChoice, Double> before = weights(r);
      BucketAllocation a = BucketAllocation.of(before);
      assertShares(a, before);
      assertThat(BucketAllocation.decode(a.encode()).encode()).isEqualTo(a.encode());

      Map<ArmChoice, Double> after = weights(r);
      BucketAllocation b = a.rebalance(after);
      assertShares(b, after);
      int moved = 0;
      for (int k = 0; k < BucketAllocation.BUCKETS; k++) {
        if (a.arm(k) != b.arm(k)) {
          moved++;
        }
      }
      int minimal = 0; // each shrinking arm must give up at least its surplus
      for (ArmChoice arm : ArmChoice.values()) {
        minimal += Math.max(0, a.counts().getOrDefault(arm, 0) - b.counts().getOrDefault(arm, 0));
      }
      assertThat(moved).as("users moved from %s to %s", before, after).isEqualTo(minimal);
    });
  }

  @Test
  void weightsThatCannotBeSharesAreRefused() {
    for (double bad : new double[] {-1, Double.NaN, Double.POSITIVE_INFINITY, 1e308, 1.0000001e9}) {
      assertThatThrownBy(() -> BucketAllocation.of(Map.of(ArmChoice.PERFORMER, bad,
          ArmChoice.SOFTMAX, 1.0))).as("weight %s", bad)
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("performer");
    }
  }
}
