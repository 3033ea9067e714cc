package dev.reranker.attention;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Batched causal self-attention with a hand-written backward pass: position i of each sequence
 * attends to positions j ≤ i only. The two arms of the engine, {@link FavorAttention} (Performer)
 * and {@link SoftmaxAttention} (exact baseline), implement it, so a model differs between arms only
 * in which one it holds.
 *
 * <p>Shapes: q, k (batch, length, d); v (batch, length, d_v); out (batch, length, d_v). "batch" is
 * whatever the caller stacks: sequences × heads. FLOAT or DOUBLE; arithmetic in the input type.
 */
public interface CausalAttention {

  /** A forward pass: the output plus what the backward pass needs. */
  interface Forward {
    /** out, (batch, length, d_v). */
    INDArray output();
  }

  /** ∂L/∂q, ∂L/∂k, ∂L/∂v. */
  record Gradients(INDArray queries, INDArray keys, INDArray values) {}

  Forward forward(INDArray queries, INDArray keys, INDArray values);

  /**
   * @param forward what {@link #forward} of this instance returned
   * @param gradOutput ∂L/∂out, the shape of the output
   */
  Gradients backward(Forward forward, INDArray gradOutput);
}
