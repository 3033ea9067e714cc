package dev.reranker.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.reranker.attention.GaussianSampler;
import dev.reranker.model.Arm;
import dev.reranker.model.ModelConfig;
import dev.reranker.model.ModelWeights;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * AdamW against the textbook update computed here in double precision, step by step; weight decay
 * only on weight matrices; the global-norm clip.
 */
class AdamWTest {

  static final double LR = 0.01;
  static final double DECAY = 0.1;

  final ModelConfig config = ModelConfig.builder(7, Arm.SOFTMAX).dim(4).layers(1).heads(1)
      .ffnDim(8).features(4).chunk(4).dropout(0).seed(3).build();

  /** The reference: Adam moments, bias correction, decoupled decay λθ where decayed. */
  static final class Reference {
    final double[] theta;
    final double[] m;
    final double[] v;
    final boolean decayed;
    int t;

    Reference(INDArray initial, boolean decayed) {
      theta = initial.dup('c').data().asDouble();
      m = new double[theta.length];
      v = new double[theta.length];
      this.decayed = decayed;
    }

    void step(double[] g, double scale) {
      t++;
      for (int i = 0; i < theta.length; i++) {
        double gi = g[i] * scale;
        m[i] = AdamW.BETA1 * m[i] + (1 - AdamW.BETA1) * gi;
        v[i] = AdamW.BETA2 * v[i] + (1 - AdamW.BETA2) * gi * gi;
        double mHat = m[i] / (1 - Math.pow(AdamW.BETA1, t));
        double vHat = v[i] / (1 - Math.pow(AdamW.BETA2, t));
        theta[i] -= LR * (mHat / (Math.sqrt(vHat) + AdamW.EPSILON)
            + (decayed ? DECAY * theta[i] : 0));
      }
    }
  }

  @Test
  void threeStepsMatchTheTextbookUpdateAndDecayOnlyWeightMatrices() {
    ModelWeights weights = ModelWeights.initialize(config);
    ModelWeights grads = weights.zerosLike();
    AdamW adam = new AdamW(weights, grads, DECAY, 0); // no clipping
    Map<String, Reference> refs = new HashMap<>();
    weights.arrays().forEach((name, a) -> refs.put(name, new Reference(a,
        name.contains(".w") && !name.contains("embedding"))));
    assertThat(refs.get("layer0.attn.wq").decayed).isTrue();
    assertThat(refs.get("layer0.ffn.w2").decayed).isTrue();
    assertThat(refs.get("item_embedding").decayed).isFalse();
    assertThat(refs.get("layer0.ln1.gain").decayed).isFalse();
    assertThat(refs.get("layer0.attn.bo").decayed).isFalse();

    GaussianSampler g = new GaussianSampler(11);
    for (int step = 0; step < 3; step++) {
      Map<String, double[]> given = new HashMap<>();
      grads.arrays().forEach((name, a) -> {
        double[] values = new double[(int) a.length()];
        for (int i = 0; i < values.length; i++) {
          // every third entry gets no gradient: only the decay moves it
          values[i] = i % 3 == 0 ? 0 : 0.1 * g.next();
          a.putScalar(i, (float) values[i]);
        }
        given.put(name, values);
      });
      adam.step(LR);
      refs.forEach((name, r) -> r.step(given.get(name), 1));
      adam.zeroGradients();
    }
    weights.arrays().forEach((name, a) -> {
      double[] got = a.dup('c').data().asDouble();
      double[] want = refs.get(name).theta;
      for (int i = 0; i < got.length; i++) {
        assertThat(got[i]).as("%s[%d]", name, i).isCloseTo(want[i], within(2e-6));
      }
    });
    // an entry without gradient: a weight matrix shrank by (1 − lr·λ)³, a gain did not move
    double wq0 = ModelWeights.initialize(config).get("layer0.attn.wq").getDouble(0);
    assertThat(weights.get("layer0.attn.wq").getDouble(0))
        .isCloseTo(wq0 * Math.pow(1 - LR * DECAY, 3), within(1e-6));
    assertThat(weights.get("layer0.ln1.gain").getDouble(0)).isEqualTo(1.0);
  }

  @Test
  void theGlobalNormIsClippedAcrossAllParameters() {
    ModelWeights weights = ModelWeights.initialize(config);
    ModelWeights grads = weights.zerosLike();
    AdamW adam = new AdamW(weights, grads, 0, 0.5); // no decay: the reference decays nothing
    Reference wq = new Reference(weights.get("layer0.attn.wq"), false);
    Reference items = new Reference(weights.get("item_embedding"), false);
    grads.get("layer0.attn.wq").putScalar(0, 3f);
    grads.get("item_embedding").putScalar(0, 4f); // global norm 5, over both tensors
    assertThat(adam.gradientNorm()).isCloseTo(5.0, within(1e-6));
    assertThat(adam.step(LR)).isCloseTo(5.0, within(1e-6));
    wq.step(withFirst(wq.theta.length, 3), 0.5 / 5); // scaled to norm 0.5
    items.step(withFirst(items.theta.length, 4), 0.5 / 5);
    adam.zeroGradients();
    grads.get("layer0.attn.wq").putScalar(0, 0.25f); // under the clip: unscaled
    adam.step(LR);
    wq.step(withFirst(wq.theta.length, 0.25), 1);
    items.step(new double[items.theta.length], 1);
    assertThat(weights.get("layer0.attn.wq").getDouble(0)).isCloseTo(wq.theta[0], within(2e-6));
    assertThat(weights.get("item_embedding").getDouble(0)).isCloseTo(items.theta[0],
        within(2e-6));
  }

  private static double[] withFirst(int n, double first) {
    double[] g = new double[n];
    g[0] = first;
    return g;
  }

  @Test
  void theUpdateSpreadOverThreadsIsTheSameBits() throws Exception {
    // an embedding of several segments, so the pool has units to share
    ModelConfig big = ModelConfig.builder(2 * AdamW.SEGMENT / 8 + 5, Arm.SOFTMAX).dim(8).layers(1)
        .heads(1).ffnDim(8).features(4).chunk(4).dropout(0).seed(3).build();
    ModelWeights a = ModelWeights.initialize(big);
    ModelWeights b = a.copy();
    ModelWeights ga = a.zerosLike();
    ModelWeights gb = b.zerosLike();
    AdamW serial = new AdamW(a, ga, DECAY, 1.0);
    AdamW spread = new AdamW(b, gb, DECAY, 1.0);
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors
        .newFixedThreadPool(3);
    try {
      GaussianSampler g = new GaussianSampler(5);
      for (int step = 0; step < 3; step++) {
        for (String name : ga.arrays().keySet()) {
          INDArray x = ga.get(name);
          for (int i = 0; i < x.length(); i++) {
            x.putScalar(i, (float) g.next());
          }
          gb.get(name).assign(x);
        }
        assertThat(spread.step(LR, pool, 3)).isEqualTo(serial.step(LR));
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(a.get(ModelWeights.ITEM_EMBEDDING).length()).isGreaterThan(2L * AdamW.SEGMENT);
    for (String name : a.arrays().keySet()) {
      assertThat(b.get(name).data().asFloat()).as(name).isEqualTo(a.get(name).data().asFloat());
    }
  }
}
