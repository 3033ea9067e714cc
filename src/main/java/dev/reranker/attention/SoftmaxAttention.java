package dev.reranker.attention;

import static dev.reranker.attention.CausalLinearAttention.rows;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Exact causal softmax attention, the A/B baseline: out_i = Σ_{j≤i} softmax_j(q_iᵀk_j/√d) v_j.
 *
 * <p>Computed in blocks of R query rows so that memory is O(R·L) per sequence rather than the
 * O(L²) of a full score matrix: block [r0, r1) needs keys 0 … r1−1 only. Each row's log-sum-exp is
 * kept, so the backward pass recomputes the probabilities block by block instead of storing them
 * (the memory layout of FlashAttention, without its fused kernel). Rows are max-shifted before exp,
 * so no input norm overflows; every row includes its own position, so no sum is ever zero.
 *
 * <p>Backward, per block, with P the probabilities, G = ∂L/∂out and D_i = G_iᵀ out_i:
 * ∂S = P ⊙ (G Vᵀ − D), ∂Q = ∂S K/√d, ∂K = ∂Sᵀ Q/√d, ∂V = Pᵀ G.
 *
 * <p>Immutable and thread-safe.
 */
public final class SoftmaxAttention implements CausalAttention {

  /** Default query rows per block. */
  public static final int DEFAULT_BLOCK = 256;

  private static final Map<String, INDArray> CAUSAL_MASKS = new ConcurrentHashMap<>();

  private final int block;

  public SoftmaxAttention() {
    this(DEFAULT_BLOCK);
  }

  /** @param block R ≥ 1, query rows per block */
  public SoftmaxAttention(int block) {
    this.block = Checks.positive("block", block);
  }

  public int block() {
    return block;
  }

  /** A forward pass: inputs, output and each row's log-sum-exp (batch, length, 1). */
  public record SoftmaxForward(INDArray queries, INDArray keys, INDArray values, INDArray output,
      INDArray logSumExp) implements Forward {}

  @Override
  public SoftmaxForward forward(INDArray queries, INDArray keys, INDArray values) {
    long[] s = shapes(queries, keys, values);
    long batch = s[0];
    long length = s[1];
    long dim = s[2];
    long valueDim = s[3];
    DataType type = queries.dataType();
    double scale = 1 / Math.sqrt(dim);
    INDArray output = Nd4j.createUninitialized(type, new long[] {batch, length, valueDim}, 'c');
    INDArray logSumExp = Nd4j.createUninitialized(type, new long[] {batch, length, 1}, 'c');
    ScoreBuffer buffer = new ScoreBuffer(type, batch, Math.min(block, length), length);
    // the scale goes on the queries, and the normalisation on the block's output, not on its
    // (n, r1) scores: two passes fewer over the largest arrays of the encode
    INDArray scaledQueries = queries.mul(scale);
    for (long r0 = 0; r0 < length; r0 += block) {
      long r1 = Math.min(length, r0 + block);
      INDArray p = scores(scaledQueries, keys, r0, r1, buffer); // (B, n, r1), causally masked
      INDArray max = p.max(true, 2); // (B, n, 1)
      p.subi(max);
      Transforms.exp(p, false);
      INDArray sum = p.sum(true, 2); // (B, n, 1)
      INDArray out = Nd4j.createUninitialized(type, new long[] {batch, r1 - r0, valueDim}, 'c');
      Nd4j.matmul(p, rows(values, 0, r1), out, false, false, false);
      rows(output, r0, r1).assign(out.divi(sum));
      rows(logSumExp, r0, r1).assign(max.addi(Transforms.log(sum, false)));
    }
    return new SoftmaxForward(queries, keys, values, output, logSumExp);
  }

  @Override
  public Gradients backward(Forward forward, INDArray gradOutput) {
    if (!(forward instanceof SoftmaxForward f)) {
      throw new IllegalArgumentException("forward must come from SoftmaxAttention, got "
          + (forward == null ? "null" : forward.getClass().getName()));
    }
    long[] s = shapes(f.queries(), f.keys(), f.values());
    long batch = s[0];
    long length = s[1];
    long dim = s[2];
    long valueDim = s[3];
    Checks.rank3("gradOutput", gradOutput, batch, length, valueDim);
    Checks.sameType(f.queries(), gradOutput);
    DataType type = f.queries().dataType();
    double scale = 1 / Math.sqrt(dim);
    INDArray d = gradOutput.mul(f.output()).sum(true, 2); // D_i = G_iᵀ out_i, (B, L, 1)
    INDArray gradQ = Nd4j.createUninitialized(type, new long[] {batch, length, dim}, 'c');
    INDArray gradK = Nd4j.zeros(type, batch, length, dim);
    INDArray gradV = Nd4j.zeros(type, batch, length, valueDim);
    ScoreBuffer buffer = new ScoreBuffer(type, batch, Math.min(block, length), length);
    ScoreBuffer gradBuffer = new ScoreBuffer(type, batch, Math.min(block, length), length);
    INDArray scaledQueries = f.queries().mul(scale);
    for (long r0 = 0; r0 < length; r0 += block) {
      long r1 = Math.min(length, r0 + block);
      long n = r1 - r0;
      INDArray q = rows(f.queries(), r0, r1);
      INDArray k = rows(f.keys(), 0, r1);
      INDArray v = rows(f.values(), 0, r1);
      INDArray g = rows(gradOutput, r0, r1);
      // recompute P = exp(S − lse)
      INDArray p = scores(scaledQueries, f.keys(), r0, r1, buffer);
      p.subi(rows(f.logSumExp(), r0, r1));
      Transforms.exp(p, false);
      // ∂S = P ⊙ (G Vᵀ − D)
      INDArray gradS = gradBuffer.block(n, r1);
      Nd4j.matmul(g, v, gradS, false, true, false);
      gradS.subi(rows(d, r0, r1)).muli(p);
      INDArray gq = Nd4j.createUninitialized(type, new long[] {batch, n, dim}, 'c');
      Nd4j.matmul(gradS, k, gq, false, false, false);
      rows(gradQ, r0, r1).assign(gq.muli(scale));
      INDArray gk = Nd4j.createUninitialized(type, new long[] {batch, r1, dim}, 'c');
      Nd4j.matmul(gradS, q, gk, true, false, false);
      rows(gradK, 0, r1).addi(gk.muli(scale));
      INDArray gv = Nd4j.createUninitialized(type, new long[] {batch, r1, valueDim}, 'c');
      Nd4j.matmul(p, g, gv, true, false, false);
      rows(gradV, 0, r1).addi(gv);
    }
    return new Gradients(gradQ, gradK, gradV);
  }

  /**
   * One (B, R, L) allocation reused by every block as a C-contiguous (B, n, r1) array: blocks grow
   * with r1, and touching fresh native memory for each is slow on these machines.
   */
  private static final class ScoreBuffer {
    private final INDArray storage;
    private final DataType type;
    private final long batch;

    ScoreBuffer(DataType type, long batch, long rows, long length) {
      this.storage = Nd4j.createUninitialized(type, new long[] {batch * rows * length}, 'c');
      this.type = type;
      this.batch = batch;
    }

    INDArray block(long n, long columns) {
      long[] shape = {batch, n, columns};
      return Nd4j.create(storage.data(), shape, new long[] {n * columns, columns, 1}, 0, 'c',
          type);
    }
  }

  /**
   * Causally masked logits of query rows [r0, r1) against keys [0, r1), (B, n, r1), from queries
   * already scaled by 1/√d.
   */
  private static INDArray scores(INDArray scaledQueries, INDArray keys, long r0, long r1,
      ScoreBuffer buffer) {
    long n = r1 - r0;
    INDArray s = buffer.block(n, r1);
    Nd4j.matmul(rows(scaledQueries, r0, r1), rows(keys, 0, r1), s, false, true, false);
    // key j > query i: −∞ (only the last n columns can be in the future)
    s.get(all(), all(), interval(r0, r1)).addi(causalMask((int) n, scaledQueries.dataType()));
    return s;
  }

  /** n × n: 0 on and below the diagonal, −∞ above. */
  private static INDArray causalMask(int n, DataType type) {
    return CAUSAL_MASKS.computeIfAbsent(n + ":" + type, key -> {
      double[] data = new double[n * n];
      for (int i = 0; i < n; i++) {
        for (int j = i + 1; j < n; j++) {
          data[i * n + j] = Double.NEGATIVE_INFINITY;
        }
      }
      // cached across calls: must not live in a caller's workspace
      try (var ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
        return Nd4j.create(data, new long[] {n, n}, 'c').castTo(type);
      }
    });
  }

  private static long[] shapes(INDArray q, INDArray k, INDArray v) {
    Checks.rank3("queries", q, -1, -1, -1);
    Checks.rank3("keys", k, q.size(0), q.size(1), q.size(2));
    Checks.rank3("values", v, q.size(0), q.size(1), -1);
    Checks.sameType(q, k, v);
    return new long[] {q.size(0), q.size(1), q.size(2), v.size(2)};
  }
}
