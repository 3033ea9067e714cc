package dev.reranker.experiment.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** The distribution functions against tabulated values, and the moments against direct sums. */
class DistributionsTest {

  @Test
  void normalAndChiSquaredMatchTables() {
    assertThat(Distributions.normalCdf(1.959963984540054)).isCloseTo(0.975, within(2e-7));
    assertThat(Distributions.normalCdf(-1)).isCloseTo(0.158655254, within(2e-8));
    assertThat(Distributions.normalSurvival(5)).isCloseTo(2.8665157e-7, within(1e-12));
    assertThat(Distributions.normalQuantile(0.975)).isCloseTo(1.959963985, within(1e-8));
    assertThat(Distributions.normalQuantile(0.8)).isCloseTo(0.841621234, within(1e-8));
    assertThat(Distributions.normalQuantile(1e-6)).isCloseTo(-4.753424309, within(1e-7));
    // χ² critical values at 0.05 and 0.001
    assertThat(Distributions.chiSquaredSurvival(3.841458821, 1)).isCloseTo(0.05, within(1e-7));
    assertThat(Distributions.chiSquaredSurvival(5.991464547, 2)).isCloseTo(0.05, within(1e-7));
    assertThat(Distributions.chiSquaredSurvival(11.07049769, 5)).isCloseTo(0.05, within(1e-7));
    assertThat(Distributions.chiSquaredSurvival(10.82756617, 1)).isCloseTo(0.001, within(1e-8));
    assertThat(Distributions.chiSquaredSurvival(0.5, 3)).isCloseTo(0.918891412, within(1e-7));
  }

  @Test
  void streamedMomentsEqualTheDirectComputation() {
    double[][] users = {{3, 10}, {0, 4}, {7, 9}, {1, 1}, {2, 12}};
    UserMoments direct = new UserMoments();
    for (double[] u : users) {
      direct.addUser(u[0], u[1]);
    }
    // the same users, their exposures arriving one outcome at a time, split over two partitions
    UserMoments p0 = new UserMoments();
    UserMoments p1 = new UserMoments();
    for (int i = 0; i < users.length; i++) {
      UserMoments p = i % 2 == 0 ? p0 : p1;
      double y = 0;
      for (int k = 0; k < users[i][1]; k++) {
        double hit = k < users[i][0] ? 1 : 0;
        p.add(y, k, hit, 1);
        y += hit;
      }
    }
    UserMoments merged = p0.merge(p1);
    assertThat(merged.users()).isEqualTo(5);
    assertThat(merged.ratio()).isCloseTo(direct.ratio(), within(1e-12));
    assertThat(merged.sumYY()).isCloseTo(direct.sumYY(), within(1e-9));
    assertThat(merged.sumYN()).isCloseTo(direct.sumYN(), within(1e-9));
    assertThat(merged.ratioVariance()).isCloseTo(direct.ratioVariance(), within(1e-12));
    // by hand: R = 13/36; Y = (3,0,7,1,2), N = (10,4,9,1,12)
    double r = 13.0 / 36;
    double[] y = {3, 0, 7, 1, 2};
    double[] n = {10, 4, 9, 1, 12};
    double my = 13 / 5.0;
    double mn = 36 / 5.0;
    double vy = 0;
    double vn = 0;
    double c = 0;
    for (int i = 0; i < 5; i++) {
      vy += (y[i] - my) * (y[i] - my) / 4;
      vn += (n[i] - mn) * (n[i] - mn) / 4;
      c += (y[i] - my) * (n[i] - mn) / 4;
    }
    assertThat(direct.ratioVariance()).isCloseTo((vy - 2 * r * c + r * r * vn) / (5 * mn * mn),
        within(1e-12));
  }
}
