package dev.reranker.training;

import dev.reranker.model.ModelWeights;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * AdamW (Loshchilov &amp; Hutter 2019) with global-norm gradient clipping, run in Java over direct
 * views of the parameters' native buffers: one fused loop per tensor instead of a dozen ND4J ops.
 *
 * <pre>
 *   g ← g · min(1, clip / ‖g‖₂)            (‖g‖ over all parameters)
 *   m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²
 *   θ ← θ − lr·( m̂ / (√v̂ + ε) + λθ )       λ only on weight matrices (not embeddings, biases, norms)
 * </pre>
 * ε = {@value #EPSILON} guards the division where v̂ is 0 (parameters that got no gradient yet).
 */
final class AdamW {

  static final double BETA1 = 0.9;
  static final double BETA2 = 0.98;
  /** Adam's denominator guard. */
  static final double EPSILON = 1e-8;

  private final List<FloatBuffer> params = new ArrayList<>();
  private final List<FloatBuffer> grads = new ArrayList<>();
  private final List<float[]> first = new ArrayList<>();
  private final List<float[]> second = new ArrayList<>();
  private final List<Boolean> decayed = new ArrayList<>();
  private final double weightDecay;
  private final double clipNorm;
  private long step;

  AdamW(ModelWeights weights, ModelWeights gradients, double weightDecay, double clipNorm) {
    this.weightDecay = weightDecay;
    this.clipNorm = clipNorm;
    for (Map.Entry<String, INDArray> e : weights.arrays().entrySet()) {
      INDArray p = e.getValue();
      params.add(p.data().asNioFloat());
      grads.add(gradients.get(e.getKey()).data().asNioFloat());
      first.add(new float[(int) p.length()]);
      second.add(new float[(int) p.length()]);
      String name = e.getKey();
      decayed.add(name.contains(".w") && !name.contains("embedding"));
    }
  }

  /** The global L2 norm of the gradients (before clipping). */
  double gradientNorm() {
    double sum = 0;
    for (FloatBuffer g : grads) {
      for (int i = 0; i < g.capacity(); i++) {
        float x = g.get(i);
        sum += x * x;
      }
    }
    return Math.sqrt(sum);
  }

  /** One update; returns the gradient norm before clipping. */
  double step(double learningRate) {
    step++;
    double norm = gradientNorm();
    double scale = clipNorm > 0 && norm > clipNorm ? clipNorm / norm : 1;
    double correction1 = 1 - Math.pow(BETA1, step);
    double correction2 = 1 - Math.pow(BETA2, step);
    float b1 = (float) BETA1;
    float b2 = (float) BETA2;
    for (int t = 0; t < params.size(); t++) {
      FloatBuffer p = params.get(t);
      FloatBuffer g = grads.get(t);
      float[] m = first.get(t);
      float[] v = second.get(t);
      double decay = decayed.get(t) ? weightDecay : 0;
      for (int i = 0; i < m.length; i++) {
        float gi = (float) (g.get(i) * scale);
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        double update = (m[i] / correction1) / (Math.sqrt(v[i] / correction2) + EPSILON)
            + decay * p.get(i);
        p.put(i, (float) (p.get(i) - learningRate * update));
      }
    }
    return norm;
  }

  /** Sets every gradient to 0. */
  void zeroGradients() {
    for (FloatBuffer g : grads) {
      for (int i = 0; i < g.capacity(); i++) {
        g.put(i, 0f);
      }
    }
  }
}
