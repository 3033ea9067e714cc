/**
 * Attention kernels: FAVOR+ random features ({@link dev.reranker.attention.FavorProjection},
 * {@link dev.reranker.attention.FeatureMap}), batched causal and bidirectional linear attention and
 * exact causal softmax attention on ND4J (forward and hand-written backward), and the one-event
 * incremental step kernels on plain float arrays with their per-user states
 * ({@link dev.reranker.attention.FavorState}, constant size; {@link dev.reranker.attention.SoftmaxKvCache},
 * growing). {@link dev.reranker.attention.ReferenceAttention} holds slow double-precision references the
 * fast kernels are tested against. The one-event arithmetic runs in
 * {@link dev.reranker.attention.FloatKernels}: the Vector API's lanes where the JVM resolves
 * {@code jdk.incubator.vector}, else the scalar reference they are tested against.
 *
 * <p>Core math: no Spring, no Kafka. The derivation and the numerical choices (stabilisers, ε guards)
 * are written down in {@link dev.reranker.attention.CausalLinearAttention} and
 * {@link dev.reranker.attention.SoftmaxKernelFeatureMap}.
 */
package dev.reranker.attention;
