package dev.reranker.training;

import dev.reranker.model.ModelWeights;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
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
    return step(learningRate, null, 0);
  }

  /**
   * Elements per unit of parallel work: a 100,000-item embedding of width 64 is 25 of them. The
   * update is elementwise, so how the units are shared out changes no bit of the result.
   */
  static final int SEGMENT = 1 << 18;

  /**
   * One update, its elementwise part shared by the caller and {@code helpers} tasks on {@code pool}
   * (null or 0: the caller alone); returns the gradient norm before clipping. The norm is one sum
   * in a fixed order on the caller, so the result is the same bits whatever the pool.
   */
  double step(double learningRate, ExecutorService pool, int helpers) {
    step++;
    double norm = gradientNorm();
    double scale = clipNorm > 0 && norm > clipNorm ? clipNorm / norm : 1;
    double correction1 = 1 - Math.pow(BETA1, step);
    double correction2 = 1 - Math.pow(BETA2, step);
    List<int[]> segments = new ArrayList<>();
    for (int t = 0; t < params.size(); t++) {
      int length = first.get(t).length;
      for (int from = 0; from < length; from += SEGMENT) {
        segments.add(new int[] {t, from, Math.min(length, from + SEGMENT)});
      }
    }
    if (pool == null || helpers < 1 || segments.size() < 2) {
      for (int[] s : segments) {
        update(s[0], s[1], s[2], scale, correction1, correction2, learningRate);
      }
      return norm;
    }
    java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
    Runnable drain = () -> {
      for (int k = next.getAndIncrement(); k < segments.size(); k = next.getAndIncrement()) {
        int[] s = segments.get(k);
        update(s[0], s[1], s[2], scale, correction1, correction2, learningRate);
      }
    };
    List<Future<?>> running = new ArrayList<>();
    for (int h = 0; h < Math.min(helpers, segments.size() - 1); h++) {
      running.add(pool.submit(drain));
    }
    drain.run();
    for (Future<?> f : running) {
      try {
        f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted during an AdamW step", e);
      } catch (ExecutionException e) {
        throw e.getCause() instanceof RuntimeException r ? r
            : new IllegalStateException(e.getCause());
      }
    }
    return norm;
  }

  /** The update of tensor {@code t}'s elements [from, to). */
  private void update(int t, int from, int to, double scale, double correction1,
      double correction2, double learningRate) {
    float b1 = (float) BETA1;
    float b2 = (float) BETA2;
    FloatBuffer p = params.get(t);
    FloatBuffer g = grads.get(t);
    float[] m = first.get(t);
    float[] v = second.get(t);
    double decay = decayed.get(t) ? weightDecay : 0;
    for (int i = from; i < to; i++) {
      float gi = (float) (g.get(i) * scale);
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      double update = (m[i] / correction1) / (Math.sqrt(v[i] / correction2) + EPSILON)
          + decay * p.get(i);
      p.put(i, (float) (p.get(i) - learningRate * update));
    }
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
