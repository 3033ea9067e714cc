package dev.reranker.attention;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Issue 2, test 3: FAVOR+ approximates exact softmax attention. The mean relative error of the
 * causal attention output falls as m grows (16, 64, 256, 1024), and orthogonal features beat i.i.d.
 * ones at equal m, averaged over seeds (the shape of the paper's Fig. 4).
 *
 * <p>Setting: L = 256, d = 16, q and k ~ 0.5·N(0, I) (realistic logit spread), v ~ N(0, I), ten seeds
 * per point, χ(d) row norms (the unbiased estimator) for both samplings. Computed in double so the
 * numbers are estimator error, not rounding.
 */
class ApproximationTest {

  static final int LENGTH = 256;
  static final int DIM = 16;
  static final int SEEDS = 10;
  static final int[] FEATURES = {16, 64, 256, 1024};

  @Test
  void errorFallsWithFeaturesAndOrthogonalBeatsIid() {
    double[] orthogonal = new double[FEATURES.length];
    double[] iid = new double[FEATURES.length];
    for (int seed = 0; seed < SEEDS; seed++) {
      INDArray q = Arrays3.gaussian(100 + seed, 0.5, DataType.DOUBLE, 1, LENGTH, DIM);
      INDArray k = Arrays3.gaussian(200 + seed, 0.5, DataType.DOUBLE, 1, LENGTH, DIM);
      INDArray v = Arrays3.gaussian(300 + seed, 1.0, DataType.DOUBLE, 1, LENGTH, DIM);
      INDArray exact = new SoftmaxAttention().forward(q, k, v).output();
      for (int i = 0; i < FEATURES.length; i++) {
        orthogonal[i] += meanRelativeError(favor(FEATURES[i], seed,
            FavorProjection.Sampling.ORTHOGONAL, q, k, v), exact) / SEEDS;
        iid[i] += meanRelativeError(favor(FEATURES[i], seed, FavorProjection.Sampling.IID, q, k, v),
            exact) / SEEDS;
      }
    }
    StringBuilder table = new StringBuilder("m | orthogonal | iid\n");
    for (int i = 0; i < FEATURES.length; i++) {
      table.append(String.format("%d | %.4f | %.4f%n", FEATURES[i], orthogonal[i], iid[i]));
    }
    System.out.print("FAVOR+ mean relative error vs exact softmax (L=256, d=16, 10 seeds)\n" + table);

    for (int i = 1; i < FEATURES.length; i++) {
      // the estimator's error scales like 1/√m: each 4× in m should cut it by about half
      assertThat(orthogonal[i]).as("orthogonal error at m=%d vs m=%d\n%s", FEATURES[i],
          FEATURES[i - 1], table).isLessThan(0.75 * orthogonal[i - 1]);
      assertThat(iid[i]).as("iid error at m=%d vs m=%d\n%s", FEATURES[i], FEATURES[i - 1], table)
          .isLessThan(0.75 * iid[i - 1]);
    }
    for (int i = 0; i < FEATURES.length; i++) {
      assertThat(orthogonal[i]).as("orthogonal vs iid at m=%d\n%s", FEATURES[i], table)
          .isLessThan(iid[i]);
    }
    assertThat(orthogonal[FEATURES.length - 1]).as("error at m=1024").isLessThan(0.12);
  }

  /**
   * Why the key stabiliser must be shared: normalising each key by its own max (what a per-row
   * stabiliser does to queries, harmlessly) reweights keys against each other, and the error stops
   * falling with m. The shared constant of {@link SoftmaxKernelFeatureMap} keeps falling.
   */
  @Test
  void perKeyStabiliserIsBiasedSharedOneIsNot() {
    int seeds = 4;
    double[] shared = new double[2];
    double[] perKey = new double[2];
    int[] features = {16, 1024};
    for (int seed = 0; seed < seeds; seed++) {
      INDArray q = Arrays3.gaussian(400 + seed, 0.5, DataType.DOUBLE, 1, LENGTH, DIM);
      INDArray k = Arrays3.gaussian(500 + seed, 0.5, DataType.DOUBLE, 1, LENGTH, DIM);
      INDArray v = Arrays3.gaussian(600 + seed, 1.0, DataType.DOUBLE, 1, LENGTH, DIM);
      INDArray exact = new SoftmaxAttention().forward(q, k, v).output();
      for (int i = 0; i < features.length; i++) {
        FeatureMap map = FeatureMap.softmaxKernel(FavorProjection.orthogonal(features[i], DIM,
            2000 + seed));
        INDArray qf = map.apply(q, FeatureMap.Role.QUERY);
        CausalLinearAttention linear = new CausalLinearAttention();
        shared[i] += meanRelativeError(linear.causal(qf, map.apply(k, FeatureMap.Role.KEY), v)
            .output(), exact) / seeds;
        // the per-row max used on keys: each key scaled by its own factor
        perKey[i] += meanRelativeError(linear.causal(qf, map.apply(k, FeatureMap.Role.QUERY), v)
            .output(), exact) / seeds;
      }
    }
    System.out.printf("shared key stabiliser: %.4f → %.4f; per-key: %.4f → %.4f (m = 16 → 1024)%n",
        shared[0], shared[1], perKey[0], perKey[1]);
    assertThat(shared[1]).isLessThan(0.3 * shared[0]);
    assertThat(perKey[1]).as("per-key error at m=1024 stays high").isGreaterThan(0.6 * perKey[0]);
    assertThat(perKey[1]).isGreaterThan(3 * shared[1]);
  }

  private static INDArray favor(int m, int seed, FavorProjection.Sampling sampling, INDArray q,
      INDArray k, INDArray v) {
    FavorProjection w = FavorProjection.draw(m, DIM, 1000 + seed, sampling,
        FavorProjection.RowNorms.CHI);
    return new FavorAttention(FeatureMap.softmaxKernel(w)).forward(q, k, v).output();
  }

  /** Mean over positions of ‖out − exact‖ / ‖exact‖. */
  static double meanRelativeError(INDArray out, INDArray exact) {
    INDArray diff = out.sub(exact);
    INDArray ratio = diff.mul(diff).sum(2).divi(exact.mul(exact).sum(2));
    return Transforms.sqrt(ratio, false).meanNumber().doubleValue();
  }
}
