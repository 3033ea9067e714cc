package dev.reranker.model;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The dense building blocks of the model on ND4J, each with its hand-written backward pass: matrix
 * products through BLAS gemm (ND4J's C-order {@code mmul} takes a slow path), row gathers and
 * scatter-adds, LayerNorm, GELU, and head splitting. Rows are positions: (N, width), N = batch·time.
 */
final class Ops {
  private Ops() {}

  /** ε inside LayerNorm's square root: keeps 1/σ finite for constant rows. */
  static final double LAYER_NORM_EPSILON = 1e-5;
  /** √(2/π), the GELU tanh approximation's constant. */
  static final double GELU_C = dev.reranker.attention.ScalarFloatKernels.GELU_C;
  /** The cubic coefficient of the GELU tanh approximation (Hendrycks & Gimpel 2016). */
  static final double GELU_A = dev.reranker.attention.ScalarFloatKernels.GELU_A;

  /** a·b (or with transposes) into a new C-order array. */
  static INDArray mm(INDArray a, INDArray b, boolean transA, boolean transB) {
    long rows = transA ? a.size(1) : a.size(0);
    long cols = transB ? b.size(0) : b.size(1);
    INDArray c = Nd4j.createUninitialized(a.dataType(), new long[] {rows, cols}, 'c');
    Nd4j.gemm(contiguous(a), contiguous(b), c, transA, transB, 1, 0);
    return c;
  }

  static INDArray contiguous(INDArray a) {
    return a.isView() || a.ordering() != 'c' ? a.dup('c') : a;
  }

  /** Rows of {@code table} at the given indices: (indices.length, width). */
  static INDArray gather(INDArray table, int[] indices) {
    return Rows.gather(table, indices);
  }

  /** target[indices[i]] += updates[i] for every row i (repeated indices accumulate). */
  static void scatterAdd(INDArray target, int[] indices, INDArray updates) {
    Rows.scatterAdd(target, indices, updates);
  }

  /** LayerNorm's saved values: x̂ and 1/σ per row. */
  record NormCache(INDArray normalized, INDArray inverseStd) {}

  /**
   * y = γ ⊙ (x − μ)/√(σ² + ε) + β per row.
   *
   * @param x (N, D); gain, bias (1, D)
   */
  static INDArray layerNorm(INDArray x, INDArray gain, INDArray bias, NormCache[] cacheOut) {
    INDArray centered = x.subColumnVector(x.mean(true, 1));
    INDArray variance = centered.mul(centered).mean(true, 1);
    INDArray inverseStd = Transforms.pow(variance.addi(LAYER_NORM_EPSILON), -0.5, false);
    INDArray normalized = centered.muliColumnVector(inverseStd);
    if (cacheOut != null) {
      cacheOut[0] = new NormCache(normalized, inverseStd);
    }
    return normalized.mulRowVector(gain).addiRowVector(bias);
  }

  /**
   * LayerNorm backward: with ĝ = g ⊙ γ, ∂x = (1/σ)·(ĝ − mean(ĝ) − x̂ ⊙ mean(ĝ ⊙ x̂)).
   *
   * @return ∂x; ∂γ and ∂β are added into gradGain, gradBias
   */
  static INDArray layerNormBackward(NormCache cache, INDArray gain, INDArray gradOut,
      INDArray gradGain, INDArray gradBias) {
    gradGain.addi(gradOut.mul(cache.normalized()).sum(true, 0));
    gradBias.addi(gradOut.sum(true, 0));
    INDArray g = gradOut.mulRowVector(gain);
    INDArray meanG = g.mean(true, 1);
    INDArray meanGx = g.mul(cache.normalized()).mean(true, 1);
    return g.subiColumnVector(meanG).subi(cache.normalized().mulColumnVector(meanGx))
        .muliColumnVector(cache.inverseStd());
  }

  /** GELU, tanh form: 0.5·x·(1 + tanh(c·(x + a·x³))). */
  static INDArray gelu(INDArray x) {
    INDArray t = geluTanh(x);
    return t.addi(1).muli(x).muli(0.5);
  }

  /** tanh(c·(x + a·x³)). */
  private static INDArray geluTanh(INDArray x) {
    INDArray inner = x.mul(x).muli(GELU_A).addi(1).muli(x).muli(GELU_C);
    return Transforms.tanh(inner, false);
  }

  /**
   * GELU backward: d/dx = 0.5(1 + t) + 0.5·x·(1 − t²)·c·(1 + 3a·x²), t = tanh(c(x + a x³)).
   */
  static INDArray geluBackward(INDArray x, INDArray gradOut) {
    INDArray t = geluTanh(x);
    INDArray x2 = x.mul(x);
    INDArray sech2 = t.mul(t).rsubi(1);
    INDArray d = x2.muli(3 * GELU_A).addi(1).muli(sech2).muli(x).muli(0.5 * GELU_C);
    d.addi(t.addi(1).muli(0.5));
    return d.muli(gradOut);
  }

  /** (N, D) = (B, T, H·dh) → (B·H, T, dh): heads become independent sequences. */
  static INDArray splitHeads(INDArray x, int batch, int time, int heads) {
    int headDim = (int) x.size(1) / heads;
    return x.reshape('c', batch, time, heads, headDim).permute(0, 2, 1, 3).dup('c')
        .reshape('c', (long) batch * heads, time, headDim);
  }

  /** (B·H, T, dh) → (N, D): the inverse of {@link #splitHeads}. */
  static INDArray mergeHeads(INDArray x, int batch, int time, int heads) {
    int headDim = (int) x.size(2);
    return contiguous(x).reshape('c', batch, heads, time, headDim).permute(0, 2, 1, 3).dup('c')
        .reshape('c', (long) batch * time, (long) heads * headDim);
  }
}
