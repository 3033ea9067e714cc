package dev.reranker.attention;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * FAVOR+ attention: a {@link FeatureMap} followed by {@link CausalLinearAttention}.
 * out_i = φ(q_i)ᵀ Σ_{j≤i} φ(k_j) v_jᵀ / (φ(q_i)ᵀ Σ_{j≤i} φ(k_j) + δ).
 *
 * <p>Causal (chunked, O(m·d_v) carried state) or bidirectional; gradients flow through the linear
 * attention and then the feature map. Immutable and thread-safe.
 */
public final class FavorAttention implements CausalAttention {

  /**
   * The most numbers of the chunked causal form's n × n blocks one slab holds: what bounds a
   * pass's scratch memory whatever the length.
   */
  public static final long SLAB_ELEMENTS = CausalLinearAttention.SLAB_ELEMENTS;

  private final FeatureMap featureMap;
  private final CausalLinearAttention linear;

  public FavorAttention(FeatureMap featureMap) {
    this(featureMap, CausalLinearAttention.DEFAULT_CHUNK);
  }

  public FavorAttention(FeatureMap featureMap, int chunk) {
    this.featureMap = Checks.notNull("featureMap", featureMap);
    this.linear = new CausalLinearAttention(chunk);
  }

  public FeatureMap featureMap() {
    return featureMap;
  }

  public int chunk() {
    return linear.chunk();
  }

  /** A FAVOR+ forward pass; {@link #finalState()} is S' = [S | z] after the last position. */
  public record FavorForward(INDArray queries, INDArray keys, INDArray values,
      INDArray queryFeatures, INDArray keyFeatures, INDArray initialState, INDArray keyMask,
      boolean causal, CausalLinearAttention.Forward linear) implements Forward {
    @Override
    public INDArray output() {
      return linear.output();
    }

    /** (batch, m, d_v+1): per sequence S (first d_v columns) and z (last column). */
    public INDArray finalState() {
      return linear.finalState();
    }
  }

  @Override
  public FavorForward forward(INDArray queries, INDArray keys, INDArray values) {
    return causal(queries, keys, values, null);
  }

  /**
   * Causal forward continuing from a state.
   *
   * @param initialState (batch, m, d_v+1) [S | z] of the events before these, or null for none
   */
  public FavorForward causal(INDArray queries, INDArray keys, INDArray values,
      INDArray initialState) {
    return causal(queries, keys, values, initialState, null);
  }

  /**
   * Causal forward over right-padded sequences.
   *
   * @param keyMask (batch, length, 1): 1 at real positions, 0 at padding, or null for none. Masked
   *     keys add nothing to S and z, so {@link FavorForward#finalState()} is each sequence's exact
   *     state after its own last event (outputs at real positions never depend on later padding).
   */
  public FavorForward causal(INDArray queries, INDArray keys, INDArray values,
      INDArray initialState, INDArray keyMask) {
    INDArray qf = featureMap.apply(queries, FeatureMap.Role.QUERY);
    INDArray kf = featureMap.apply(keys, FeatureMap.Role.KEY);
    if (keyMask != null) {
      Checks.rank3("keyMask", keyMask, kf.size(0), kf.size(1), 1);
      kf.muli(keyMask);
    }
    return new FavorForward(queries, keys, values, qf, kf, initialState, keyMask, true,
        linear.causal(qf, kf, values, initialState));
  }

  /** Bidirectional forward: every position attends to all. */
  public FavorForward bidirectional(INDArray queries, INDArray keys, INDArray values) {
    INDArray qf = featureMap.apply(queries, FeatureMap.Role.QUERY);
    INDArray kf = featureMap.apply(keys, FeatureMap.Role.KEY);
    return new FavorForward(queries, keys, values, qf, kf, null, null, false,
        linear.bidirectional(qf, kf, values));
  }

  @Override
  public Gradients backward(Forward forward, INDArray gradOutput) {
    if (!(forward instanceof FavorForward f)) {
      throw new IllegalArgumentException("forward must come from FavorAttention, got "
          + (forward == null ? "null" : forward.getClass().getName()));
    }
    CausalLinearAttention.Gradients g = f.causal()
        ? linear.causalBackward(f.queryFeatures(), f.keyFeatures(), f.values(), f.initialState(),
            f.linear(), gradOutput)
        : linear.bidirectionalBackward(f.queryFeatures(), f.keyFeatures(), f.values(), f.linear(),
            gradOutput);
    INDArray gradQ = featureMap.backward(f.queries(), f.queryFeatures(), g.queryFeatures(),
        FeatureMap.Role.QUERY);
    INDArray gradKeyFeatures = f.keyMask() == null ? g.keyFeatures()
        : g.keyFeatures().mul(f.keyMask());
    // the masked features are 0, not φ(k): recompute φ(k) where the mask zeroed it
    INDArray keyFeatures = f.keyMask() == null ? f.keyFeatures()
        : featureMap.apply(f.keys(), FeatureMap.Role.KEY);
    INDArray gradK = featureMap.backward(f.keys(), keyFeatures, gradKeyFeatures,
        FeatureMap.Role.KEY);
    return new Gradients(gradQ, gradK, g.values());
  }
}
