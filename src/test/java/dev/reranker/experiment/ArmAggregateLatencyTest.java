package dev.reranker.experiment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/**
 * The latencies an aggregate holds apart from its histogram ({@link ArmAggregate#PENDING}) change
 * no number: against a histogram of every latency, through the binary form and merges.
 */
class ArmAggregateLatencyTest {

  private static Exposure exposure(double tookMs) {
    return new Exposure("r", "e", "u", ArmChoice.PERFORMER, "v1", List.of("a"), 1_000L, tookMs,
        100, false, 10, false, null, 50, false);
  }

  @Test
  void everyCountOfExposuresReadsAsAHistogramOfAllOfThem() {
    SplittableRandom r = new SplittableRandom(5);
    for (int n = 0; n <= 3 * ArmAggregate.PENDING + 5; n++) {
      ArmAggregate a = new ArmAggregate();
      Histogram reference = new Histogram(ArmAggregate.MAX_LATENCY_US, 2);
      for (int i = 0; i < n; i++) {
        double ms = i % 17 == 0 ? 70_000 : r.nextDouble() * 40; // some past the histogram's top
        a.exposed(exposure(ms));
        a.toBytes(); // as the join does after every exposure: the cached encoding must follow
        reference.recordValue(Math.clamp(Math.round(ms * 1000), 0, ArmAggregate.MAX_LATENCY_US));
      }
      byte[] bytes = a.toBytes();
      ArmAggregate back = ArmAggregate.fromBytes(bytes);
      assertThat(back.toBytes()).as("n = %d", n).isEqualTo(bytes);
      for (double p : new double[] {0, 50, 90, 99, 100}) {
        double expected = reference.getTotalCount() == 0 ? 0
            : reference.getValueAtPercentile(p) / 1e3;
        assertThat(a.latencyMs(p)).as("n = %d, p%s", n, p).isEqualTo(expected);
        assertThat(back.latencyMs(p)).isEqualTo(expected);
      }
      assertThat(back.latency()).isEqualTo(reference);
      assertThat(a.toBytes()).as("reading changes nothing").isEqualTo(bytes);
      ArmAggregate merged = back.merge(a);
      Histogram twice = reference.copy();
      twice.add(reference);
      assertThat(merged.latency()).isEqualTo(twice);
    }
  }

  @Test
  void theHistogramOnlyFormatIsStillRead() {
    ArmAggregate a = new ArmAggregate();
    for (int i = 0; i < ArmAggregate.PENDING + 1; i++) { // folds the first PENDING in
      a.exposed(exposure(i));
    }
    ArmAggregate folded = new ArmAggregate().merge(a); // a merge holds every latency folded
    byte[] current = folded.toBytes();
    // format 6: the same bytes without the pending count (zero here) at the end
    byte[] old = Arrays.copyOf(current, current.length - Integer.BYTES);
    assertThat(current[0]).isEqualTo((byte) 7);
    old[0] = 6;
    ArmAggregate back = ArmAggregate.fromBytes(old);
    assertThat(back.latency()).isEqualTo(a.latency());
    assertThat(back.exposures()).isEqualTo(a.exposures());
    assertThat(back.toBytes()).isEqualTo(current);
  }

  @Test
  void corruptPendingLatenciesAreRefused() {
    ArmAggregate a = new ArmAggregate();
    a.exposed(exposure(1));
    byte[] bytes = a.toBytes();
    byte[] tooMany = bytes.clone();
    int countAt = bytes.length - 2 * Integer.BYTES; // the count, then one latency
    java.nio.ByteBuffer.wrap(tooMany).putInt(countAt, ArmAggregate.PENDING + 1);
    assertThatThrownBy(() -> ArmAggregate.fromBytes(tooMany))
        .isInstanceOf(IllegalArgumentException.class);
    byte[] negative = bytes.clone();
    java.nio.ByteBuffer.wrap(negative).putInt(bytes.length - Integer.BYTES, -1);
    assertThatThrownBy(() -> ArmAggregate.fromBytes(negative))
        .isInstanceOf(IllegalArgumentException.class);
    byte[] trailing = Arrays.copyOf(bytes, bytes.length + 1);
    assertThatThrownBy(() -> ArmAggregate.fromBytes(trailing))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(ArmAggregate.fromBytes(bytes).latencyMs(100)).isEqualTo(a.latencyMs(100));
  }
}
