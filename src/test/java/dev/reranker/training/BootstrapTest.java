package dev.reranker.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Bootstrap intervals over users: coverage of a known mean, pairing, determinism. */
class BootstrapTest {

  @Test
  void theIntervalOfAHitRateCoversItsMeanWithTheNormalWidth() {
    SplittableRandom r = new SplittableRandom(1);
    double[] hits = new double[610];
    for (int i = 0; i < hits.length; i++) {
      hits[i] = r.nextDouble() < 0.12 ? 1 : 0;
    }
    double mean = java.util.Arrays.stream(hits).average().orElseThrow();
    Bootstrap.Interval ci = Bootstrap.mean(hits, Bootstrap.RESAMPLES, 7);
    assertThat(ci.low()).isLessThan(mean);
    assertThat(ci.high()).isGreaterThan(mean);
    // the normal approximation: ± 1.96 √(p(1 − p)/n) ≈ ± 0.026 at p 0.12, n 610
    double half = 1.96 * Math.sqrt(mean * (1 - mean) / hits.length);
    assertThat(ci.high() - ci.low()).isBetween(1.7 * half, 2.3 * half);
    assertThat(Bootstrap.mean(hits, Bootstrap.RESAMPLES, 7)).isEqualTo(ci);
  }

  @Test
  void pairingRemovesTheSpreadTwoModelsShare() {
    SplittableRandom r = new SplittableRandom(2);
    double[] a = new double[500];
    double[] b = new double[500];
    for (int i = 0; i < a.length; i++) {
      a[i] = r.nextDouble(); // users differ a lot
      b[i] = a[i] - 0.01;    // the second model is uniformly 0.01 worse
    }
    Bootstrap.Interval diff = Bootstrap.difference(a, b, Bootstrap.RESAMPLES, 3);
    assertThat(diff.low()).isCloseTo(0.01, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(diff.high()).isCloseTo(0.01, org.assertj.core.data.Offset.offset(1e-9));
    Bootstrap.Interval unpaired = Bootstrap.mean(a, Bootstrap.RESAMPLES, 3);
    assertThat(unpaired.high() - unpaired.low()).isGreaterThan(0.04);
  }

  @Test
  void refusesWhatCannotBeResampled() {
    assertThatThrownBy(() -> Bootstrap.mean(new double[0], 1000, 1))
        .hasMessageContaining("no users");
    assertThatThrownBy(() -> Bootstrap.difference(new double[3], new double[4], 1000, 1))
        .hasMessageContaining("same users");
    assertThatThrownBy(() -> Bootstrap.mean(new double[3], 10, 1))
        .hasMessageContaining("resamples");
  }
}
