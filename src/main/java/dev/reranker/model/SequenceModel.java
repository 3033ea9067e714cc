package dev.reranker.model;

import dev.reranker.attention.CausalAttention;
import dev.reranker.attention.FavorAttention;
import dev.reranker.attention.FeatureMap;
import dev.reranker.attention.SoftmaxAttention;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.random.impl.BernoulliDistribution;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The batched model on ND4J: forward over padded windows and a hand-written backward pass.
 *
 * <pre>
 *   x   = dropout(E[item] + P_index[bucket] + P_gap[bucket])             (N, D)
 *   per block:
 *     a   = LN₁(x)
 *     q, k, v = a·Wq, a·Wk, a·Wv     → heads (B·H, T, D/H)
 *     o   = causal attention(q, k, v) → merged (N, D)
 *     x   = x + dropout(o·Wo + bo)
 *     c   = LN₂(x)
 *     x   = x + dropout(dropout(GELU(c·W1 + b1))·W2 + b2)
 *   h   = LN_final(x)                                                     (N, D)
 * </pre>
 * The user vector is h at a window's last event; an item's score is h·E[item] (tied embeddings).
 * Not thread-safe across concurrent training steps on the same weights; forward passes in
 * inference mode only read the weights.
 */
public final class SequenceModel {

  private final ModelConfig config;
  private final ModelWeights weights;
  private final List<CausalAttention> attention;

  public SequenceModel(ModelConfig config, ModelWeights weights) {
    this.config = config;
    this.weights = weights;
    this.attention = new ArrayList<>();
    for (int l = 0; l < config.layers(); l++) {
      attention.add(config.arm() == Arm.PERFORMER
          ? new FavorAttention(FeatureMap.of(config.kernel(), weights.projections().get(l)),
              config.chunk())
          : new SoftmaxAttention());
    }
  }

  public ModelConfig config() {
    return config;
  }

  public ModelWeights weights() {
    return weights;
  }

  /** The attention of each layer. */
  public List<CausalAttention> attention() {
    return attention;
  }

  /** Dropout masks from a seeded ND4J generator; a rate of 0 makes no masks. */
  public static final class Dropout {
    private final double rate;
    private final org.nd4j.linalg.api.rng.Random random;

    public Dropout(double rate, long seed) {
      this.rate = rate;
      this.random = Nd4j.getRandomFactory().getNewRandomInstance(seed);
    }

    /** An inverted-dropout mask (0 or 1/(1−rate)) of the given shape, or null when rate = 0. */
    INDArray mask(DataType type, long... shape) {
      if (rate == 0) {
        return null;
      }
      INDArray m = Nd4j.createUninitialized(type, shape, 'c');
      Nd4j.getExecutioner().exec(new BernoulliDistribution(m, 1 - rate), random);
      return m.muli(1 / (1 - rate));
    }
  }

  /** What one block keeps for its backward pass. */
  private record BlockCache(INDArray input, Ops.NormCache norm1, INDArray normed1, INDArray queries,
      INDArray keys, INDArray values, CausalAttention.Forward attention, INDArray merged,
      INDArray attentionMask, Ops.NormCache norm2, INDArray normed2, INDArray preActivation,
      INDArray activated, INDArray hiddenMask, INDArray ffnMask) {}

  /** A forward pass: the final hidden states (N, D) and the caches of the backward pass. */
  public static final class Forward {
    private final Batch batch;
    private final INDArray hidden;
    private final INDArray inputMask;
    private final List<BlockCache> blocks;
    private final Ops.NormCache finalNorm;

    private Forward(Batch batch, INDArray hidden, INDArray inputMask, List<BlockCache> blocks,
        Ops.NormCache finalNorm) {
      this.batch = batch;
      this.hidden = hidden;
      this.inputMask = inputMask;
      this.blocks = blocks;
      this.finalNorm = finalNorm;
    }

    public Batch batch() {
      return batch;
    }

    /** h, (N, D). */
    public INDArray hidden() {
      return hidden;
    }

    /** h at each window's last event: the user vectors, (B, D). */
    public INDArray userVectors() {
      return Ops.gather(hidden, batch.lastRows());
    }

    /** Per layer, the attention forward (FAVOR+ final states, or softmax keys and values). */
    public List<CausalAttention.Forward> attention() {
      return blocks.stream().map(BlockCache::attention).toList();
    }
  }

  /**
   * The forward pass.
   *
   * @param dropout masks for training, or null for inference
   */
  public Forward forward(Batch batch, Dropout dropout) {
    return forward(batch, dropout, null);
  }

  /**
   * The forward pass continuing each window from per-layer FAVOR+ states (the performer arm's
   * catch-up: a window of new events per user, starting where the user's state stopped).
   *
   * @param initialStates per layer (B·H, m, d_h+1) stacked [S | z] of every (window, head), or null
   *     for windows that start a history
   */
  public Forward forward(Batch batch, Dropout dropout, List<INDArray> initialStates) {
    if (initialStates != null && config.arm() != Arm.PERFORMER) {
      throw new IllegalArgumentException("initial states exist only for the performer arm");
    }
    if (initialStates != null && initialStates.size() != config.layers()) {
      throw new IllegalArgumentException("need one initial state per layer (" + config.layers()
          + "), got " + initialStates.size());
    }
    DataType type = weights.dataType();
    int b = batch.size();
    int t = batch.time();
    int h = config.heads();
    long n = batch.rows();
    int d = config.dim();
    // embeddings and order signal
    INDArray x = Ops.gather(weights.itemEmbedding(), batch.items());
    x.addi(Ops.gather(weights.indexEmbedding(), batch.indexBuckets()));
    x.addi(Ops.gather(weights.gapEmbedding(), batch.gapBuckets()));
    INDArray inputMask = dropout == null ? null : dropout.mask(type, n, d);
    if (inputMask != null) {
      x.muli(inputMask);
    }
    List<BlockCache> blocks = new ArrayList<>();
    for (int l = 0; l < config.layers(); l++) {
      INDArray input = x;
      // attention sub-block
      Ops.NormCache[] norm1 = new Ops.NormCache[1];
      INDArray a = Ops.layerNorm(x, weights.layer(l).ln1Gain(), weights.layer(l).ln1Bias(),
          norm1);
      INDArray q = Ops.splitHeads(Ops.mm(a, weights.layer(l).wq(), false, false), b, t, h);
      INDArray k = Ops.splitHeads(Ops.mm(a, weights.layer(l).wk(), false, false), b, t, h);
      INDArray v = Ops.splitHeads(Ops.mm(a, weights.layer(l).wv(), false, false), b, t, h);
      CausalAttention.Forward att = attention.get(l) instanceof FavorAttention favor
          ? favor.causal(q, k, v, initialStates == null ? null : initialStates.get(l),
              keyMask(batch, type))
          : attention.get(l).forward(q, k, v);
      INDArray merged = Ops.mergeHeads(att.output(), b, t, h);
      INDArray out = Ops.mm(merged, weights.layer(l).wo(), false, false)
          .addiRowVector(weights.layer(l).bo());
      INDArray attentionMask = dropout == null ? null : dropout.mask(type, n, d);
      if (attentionMask != null) {
        out.muli(attentionMask);
      }
      x = input.add(out);
      // feed-forward sub-block
      Ops.NormCache[] norm2 = new Ops.NormCache[1];
      INDArray c = Ops.layerNorm(x, weights.layer(l).ln2Gain(), weights.layer(l).ln2Bias(),
          norm2);
      INDArray pre = Ops.mm(c, weights.layer(l).w1(), false, false)
          .addiRowVector(weights.layer(l).b1());
      INDArray act = Ops.gelu(pre);
      INDArray hiddenMask = dropout == null ? null : dropout.mask(type, n, config.ffnDim());
      if (hiddenMask != null) {
        act.muli(hiddenMask);
      }
      INDArray ffn = Ops.mm(act, weights.layer(l).w2(), false, false)
          .addiRowVector(weights.layer(l).b2());
      INDArray ffnMask = dropout == null ? null : dropout.mask(type, n, d);
      if (ffnMask != null) {
        ffn.muli(ffnMask);
      }
      INDArray mid = x;
      x = mid.add(ffn);
      blocks.add(new BlockCache(input, norm1[0], a, q, k, v, att, merged, attentionMask, norm2[0],
          c, pre, act, hiddenMask, ffnMask));
    }
    Ops.NormCache[] finalNorm = new Ops.NormCache[1];
    INDArray hidden = Ops.layerNorm(x, weights.finalGain(), weights.finalBias(),
        finalNorm);
    return new Forward(batch, hidden, inputMask, blocks, finalNorm[0]);
  }

  /**
   * (B·H, T, 1): 1 at real positions, 0 at padding, so padded keys add nothing to a FAVOR+ state;
   * null when no window is padded.
   */
  private INDArray keyMask(Batch batch, DataType type) {
    int t = batch.time();
    boolean padded = false;
    for (int len : batch.lengths()) {
      padded |= len < t;
    }
    if (!padded) {
      return null;
    }
    int h = config.heads();
    float[] mask = new float[batch.size() * h * t];
    for (int s = 0; s < batch.size(); s++) {
      for (int head = 0; head < h; head++) {
        java.util.Arrays.fill(mask, (s * h + head) * t, (s * h + head) * t + batch.lengths()[s], 1f);
      }
    }
    INDArray m = dev.reranker.attention.Floats.toArray(mask, (long) batch.size() * h, t, 1);
    return type == DataType.FLOAT ? m : m.castTo(type);
  }

  /**
   * The backward pass from ∂L/∂h.
   *
   * @param gradHidden ∂L/∂h, (N, D); zero at padded rows
   * @param grads accumulator: gradients are <em>added</em> into it (so the loss can add its own
   *     item-embedding gradient first)
   */
  public void backward(Forward f, INDArray gradHidden, ModelWeights grads) {
    Batch batch = f.batch;
    int b = batch.size();
    int t = batch.time();
    int h = config.heads();
    INDArray gx = Ops.layerNormBackward(f.finalNorm, weights.finalGain(), gradHidden,
        grads.finalGain(), grads.finalBias());
    for (int l = config.layers() - 1; l >= 0; l--) {
      BlockCache cache = f.blocks.get(l);
      // feed-forward: x_out = x_mid + mask₃ ⊙ ((mask₂ ⊙ GELU(c·W1 + b1))·W2 + b2)
      INDArray gFfn = cache.ffnMask() == null ? gx : gx.mul(cache.ffnMask());
      grads.layer(l).w2().addi(Ops.mm(cache.activated(), gFfn, true, false));
      grads.layer(l).b2().addi(gFfn.sum(true, 0));
      INDArray gAct = Ops.mm(gFfn, weights.layer(l).w2(), false, true);
      if (cache.hiddenMask() != null) {
        gAct.muli(cache.hiddenMask());
      }
      INDArray gPre = Ops.geluBackward(cache.preActivation(), gAct);
      grads.layer(l).w1().addi(Ops.mm(cache.normed2(), gPre, true, false));
      grads.layer(l).b1().addi(gPre.sum(true, 0));
      INDArray gc = Ops.mm(gPre, weights.layer(l).w1(), false, true);
      INDArray gMid = gx.add(Ops.layerNormBackward(cache.norm2(), weights.layer(l).ln2Gain(), gc,
          grads.layer(l).ln2Gain(), grads.layer(l).ln2Bias()));
      // attention: x_mid = x_in + mask₁ ⊙ (merge(o)·Wo + bo)
      INDArray gOut = cache.attentionMask() == null ? gMid : gMid.mul(cache.attentionMask());
      grads.layer(l).wo().addi(Ops.mm(cache.merged(), gOut, true, false));
      grads.layer(l).bo().addi(gOut.sum(true, 0));
      INDArray gMerged = Ops.mm(gOut, weights.layer(l).wo(), false, true);
      CausalAttention.Gradients ga = attention.get(l).backward(cache.attention(),
          Ops.splitHeads(gMerged, b, t, h));
      INDArray gq = Ops.mergeHeads(ga.queries(), b, t, h);
      INDArray gk = Ops.mergeHeads(ga.keys(), b, t, h);
      INDArray gv = Ops.mergeHeads(ga.values(), b, t, h);
      grads.layer(l).wq().addi(Ops.mm(cache.normed1(), gq, true, false));
      grads.layer(l).wk().addi(Ops.mm(cache.normed1(), gk, true, false));
      grads.layer(l).wv().addi(Ops.mm(cache.normed1(), gv, true, false));
      INDArray ga1 = Ops.mm(gq, weights.layer(l).wq(), false, true)
          .addi(Ops.mm(gk, weights.layer(l).wk(), false, true))
          .addi(Ops.mm(gv, weights.layer(l).wv(), false, true));
      gx = gMid.add(Ops.layerNormBackward(cache.norm1(), weights.layer(l).ln1Gain(), ga1,
          grads.layer(l).ln1Gain(), grads.layer(l).ln1Bias()));
    }
    if (f.inputMask != null) {
      gx.muli(f.inputMask);
    }
    Ops.scatterAdd(grads.itemEmbedding(), batch.items(), gx);
    Ops.scatterAdd(grads.indexEmbedding(), batch.indexBuckets(), gx);
    Ops.scatterAdd(grads.gapEmbedding(), batch.gapBuckets(), gx);
  }
}
