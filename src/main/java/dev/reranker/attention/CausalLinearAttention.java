package dev.reranker.attention;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Linear attention over positive features, batched on ND4J: causal (chunked) and bidirectional,
 * forward and backward. With the features of {@link FeatureMap} this is FAVOR+.
 *
 * <h2>What it computes</h2>
 * For query features q'_i, key features k'_j (m wide) and values v_j (d_v wide):
 * <pre>
 *   causal:         out_i = q'_iᵀ S_i / (q'_iᵀ z_i + δ),  S_i = Σ_{j≤i} k'_j v_jᵀ,  z_i = Σ_{j≤i} k'_j
 *   bidirectional:  the same with the sums over all j
 * </pre>
 * (Choromanski et al. 2021, eq. 4 and §2.6). δ = {@value #DENOMINATOR_EPSILON} only prevents 0/0:
 * with positive features (ε-floored, see {@link SoftmaxKernelFeatureMap}) the denominator is at least
 * n·ε_q·ε_k·(…) ≳ 1e-27 for every configuration the feature maps accept, so δ never changes a result
 * by more than 1e-3 relative even there, and not measurably in practice.
 *
 * <p><b>One sum for numerator and denominator.</b> Appending a column of ones to V (v'_j = [v_j, 1])
 * makes z the last column of S' = Σ k'_j v'_jᵀ, so numerator and denominator are one product and the
 * state is one (m, d_v+1) matrix per sequence. The incremental {@link FavorState} uses the same layout.
 *
 * <h2>Chunked causal form (memory linear in L, bounded per pass)</h2>
 * A cumulative sum of k'_j v'_jᵀ over positions materialises L·m·(d_v+1) numbers (what
 * performer-pytorch does). Instead positions are cut into chunks of at most C: inside a chunk the
 * causal product is the masked quadratic form (Q'_c K'_cᵀ ⊙ tril) V'_c, and the state S'_c before
 * the chunk holds the sum over all earlier chunks:
 * <pre>
 *   N_c  = (Q'_c K'_cᵀ ⊙ tril) V'_c + Q'_c S'_c        (chunk c's numerators and denominators)
 *   S'_c = S'_0 + Σ_{c' &lt; c} K'_c'ᵀ V'_c'              (an exclusive prefix sum over chunks)
 * </pre>
 * Every chunk's products run at once, batched over (sequence, chunk), and the prefix sum over the
 * chunks' small (m, d_v+1) updates is one pass on plain arrays, so a pass costs a fixed number of
 * ND4J operations whatever L. Chunks are grouped into slabs whose n × n blocks hold at most {@link
 * #SLAB_ELEMENTS} numbers; the state carries from slab to slab. Cost O(L·C·(m + d_v) + L·m·d_v).
 * The state can start from a given S' (continuing a user's history: only new events are folded),
 * and the final S' is returned (a cold encode hands it to the incremental step kernel). The prefix
 * sum accumulates in double; everything else is in the input type.
 *
 * <h2>Backward (hand-written; SameDiff 1.0.0-M2.1 gets cumulative-sum gradients wrong)</h2>
 * With out = N/(den+δ), the gradient G' = [∂L/∂num, ∂L/∂den] with ∂L/∂num = g/(den+δ) and
 * ∂L/∂den = −Σ(g ⊙ out)/(den+δ). For the causal product P_i = Σ_{j≤i} (q'_iᵀk'_j) v'_j:
 * <pre>
 *   ∂q'_i = S'_i G'_i                      S'_i = Σ_{j≤i} k'_j v'_jᵀ   (prefix: forward scan)
 *   ∂k'_j = R_j v'_j,   ∂v'_j = R_jᵀ k'_j   R_j  = Σ_{i≥j} q'_i G'_iᵀ   (suffix: reverse scan)
 * </pre>
 * each again chunked: a masked C × C block inside the chunk plus the carried S' or R. The JAX reference
 * instead rebuilds earlier states by subtracting from the last one, which loses precision over long
 * sequences; recomputing the prefix in a second scan costs one more pass and is exact.
 *
 * <p>Inputs are rank 3, (batch, length, width), FLOAT (production) or DOUBLE (gradient checks).
 * Immutable and thread-safe.
 */
final class CausalLinearAttention {

  /** δ, the denominator guard. See the class comment for why it can be this small. */
  public static final double DENOMINATOR_EPSILON = 1e-30;
  /** Default chunk length C: big enough to amortise ND4J's per-op cost, small enough for C² to be cheap. */
  public static final int DEFAULT_CHUNK = 128;

  private static final Map<String, INDArray> LOWER_TRIANGLES = new ConcurrentHashMap<>();

  private final int chunk;
  private final long slabElements;

  public CausalLinearAttention() {
    this(DEFAULT_CHUNK);
  }

  /** @param chunk C ≥ 1, positions per chunk; C ≥ L gives the plain quadratic masked form */
  public CausalLinearAttention(int chunk) {
    this(chunk, SLAB_ELEMENTS);
  }

  /** With another slab size (tests force many slabs with a small one). */
  CausalLinearAttention(int chunk, long slabElements) {
    this.chunk = Checks.positive("chunk", chunk);
    this.slabElements = Checks.positive("slabElements", slabElements);
  }

  public int chunk() {
    return chunk;
  }

  /**
   * The result of a forward pass.
   *
   * @param output out, (batch, length, d_v)
   * @param denominator den + δ per position, (batch, length, 1)
   * @param finalState S' after the last position, (batch, m, d_v+1), last column z
   */
  public record Forward(INDArray output, INDArray denominator, INDArray finalState) {}

  /** Gradients with respect to the three inputs. */
  public record Gradients(INDArray queryFeatures, INDArray keyFeatures, INDArray values) {}

  /** Causal forward from an empty state. */
  public Forward causal(INDArray queryFeatures, INDArray keyFeatures, INDArray values) {
    return causal(queryFeatures, keyFeatures, values, null);
  }

  /**
   * Causal forward.
   *
   * @param queryFeatures q', (batch, length, m)
   * @param keyFeatures k', (batch, length, m)
   * @param values v, (batch, length, d_v)
   * @param initialState S' before the first position, (batch, m, d_v+1), or null for zeros; not
   *     modified
   */
  public Forward causal(INDArray queryFeatures, INDArray keyFeatures, INDArray values,
      INDArray initialState) {
    Shapes s = Shapes.of(queryFeatures, keyFeatures, values, initialState);
    DataType type = queryFeatures.dataType();
    INDArray valuesAug = withOnes(values); // (B, L, dv+1): v' = [v, 1]
    INDArray state = initialState == null
        ? Nd4j.zeros(type, s.batch, s.features, s.valueDim + 1)
        : initialState.dup('c'); // (B, m, dv+1)
    INDArray numerators = Nd4j.createUninitialized(type, new long[] {s.batch, s.length,
        s.valueDim + 1}, 'c'); // (B, L, dv+1): [num | den]
    int n = chunkLength(s.length);
    long slab = slabLength(s.batch, n);
    for (long c0 = 0; c0 < s.length; c0 += slab) {
      long c1 = Math.min(s.length, c0 + slab);
      state = causalSlab(rows(queryFeatures, c0, c1), rows(keyFeatures, c0, c1),
          rows(valuesAug, c0, c1), state, n, rows(numerators, c0, c1));
    }
    return finish(numerators, s, state);
  }

  /**
   * The chunk length used for a sequence of {@code length}: the fewest chunks of at most {@link
   * #chunk()} positions, made equal (200 positions with C = 128 run as two chunks of 100, not 128
   * and 72 padded to 256).
   */
  int chunkLength(long length) {
    long chunks = Math.max(1, (length + chunk - 1) / chunk);
    return (int) ((length + chunks - 1) / chunks);
  }

  /**
   * Positions per slab: every chunk of a slab runs in the same few batched products, holding one n ×
   * n block per chunk; slabs keep that (and so the memory of a pass) at most {@code slabElements}
   * numbers ({@value #SLAB_ELEMENTS} by default), linear in L overall.
   */
  private long slabLength(long batch, int n) {
    long chunks = Math.max(1, slabElements / (batch * n * (long) n));
    return chunks * n;
  }

  /** The most numbers of the n × n blocks one slab holds (16 MB in float32). */
  public static final long SLAB_ELEMENTS = 1L << 22;

  /**
   * One slab of positions, every chunk at once: the chunked form's per-chunk products as a few
   * products batched over (sequence, chunk), so the number of ND4J operations does not grow with
   * the length (a loop over chunks ran 8 small operations per chunk: 142 ms against 41 ms at
   * L = 16,384 on this machine). The carried states are an exclusive prefix sum over the chunks'
   * K'_cᵀ V'_c, accumulated in double on plain arrays (ND4J's cumsum took 70+ ms alone).
   *
   * @param q q' of the slab, (B, len, m), possibly a view
   * @param state S' before the slab, (B, m, dv+1)
   * @param numeratorsOut where [num | den] of the slab's positions go, (B, len, dv+1)
   * @return S' after the slab
   */
  private static INDArray causalSlab(INDArray q, INDArray k, INDArray v, INDArray state, int n,
      INDArray numeratorsOut) {
    DataType type = q.dataType();
    long b = q.size(0);
    long len = q.size(1);
    long m = q.size(2);
    long w = v.size(2);
    long chunks = (len + n - 1) / n;
    long padded = chunks * n;
    long bc = b * chunks;
    // (B, len, ·) → (B·chunks, n, ·), zero-padded: a zero key adds nothing, a padded query's
    // output is dropped
    INDArray qc = chunked(q, padded).reshape('c', bc, n, m);
    INDArray kc = chunked(k, padded).reshape('c', bc, n, m);
    INDArray vc = chunked(v, padded).reshape('c', bc, n, w);
    // inside each chunk: (Q'_c K'_cᵀ ⊙ tril) V'_c
    INDArray a = Nd4j.createUninitialized(type, new long[] {bc, n, n}, 'c');
    Nd4j.matmul(qc, kc, a, false, true, false);
    a.muli(lowerTriangle(n, type));
    INDArray numerators = Nd4j.createUninitialized(type, new long[] {bc, n, w}, 'c');
    Nd4j.matmul(a, vc, numerators, false, false, false);
    // each chunk's K'_cᵀ V'_c, then the state before each chunk (exclusive prefix) and after all
    INDArray updates = Nd4j.createUninitialized(type, new long[] {bc, m, w}, 'c');
    Nd4j.matmul(kc, vc, updates, true, false, false);
    INDArray carried; // the state before each chunk, (B·chunks, m, w)
    INDArray after; // the state after the slab, (B, m, w)
    if (chunks == 1) { // one chunk per sequence: the state before it is the state given
      carried = state;
      after = updates.addi(state);
    } else {
      double[] update = updates.data().asDouble();
      double[] before = new double[update.length];
      double[] start = state.dup('c').data().asDouble();
      double[] end = new double[start.length];
      int width = (int) (m * w);
      for (int seq = 0; seq < b; seq++) {
        double[] sum = java.util.Arrays.copyOfRange(start, seq * width, (seq + 1) * width);
        for (int c = 0; c < chunks; c++) {
          int offset = (int) ((seq * chunks + c) * width);
          System.arraycopy(sum, 0, before, offset, width);
          for (int j = 0; j < width; j++) {
            sum[j] += update[offset + j];
          }
        }
        System.arraycopy(sum, 0, end, seq * width, width);
      }
      carried = Nd4j.create(before, new long[] {bc, m, w}, 'c').castTo(type);
      after = Nd4j.create(end, new long[] {b, m, w}, 'c').castTo(type);
    }
    // earlier chunks: + Q'_c S'_c
    INDArray fromEarlier = Nd4j.createUninitialized(type, new long[] {bc, n, w}, 'c');
    Nd4j.matmul(qc, carried, fromEarlier, false, false, false);
    numerators.addi(fromEarlier);
    numeratorsOut.assign(numerators.reshape('c', b, padded, w).get(all(), interval(0, len), all()));
    return after;
  }

  /** x (B, len, ·) as a new C-order (B, padded, ·) array, zero beyond len. */
  private static INDArray chunked(INDArray x, long padded) {
    long len = x.size(1);
    if (padded == len) {
      return x.ordering() == 'c' && !x.isView() ? x : x.dup('c');
    }
    INDArray out = Nd4j.zeros(x.dataType(), x.size(0), padded, x.size(2));
    out.get(all(), interval(0, len), all()).assign(x);
    return out;
  }

  /**
   * Causal backward.
   *
   * @param forward what {@link #causal} returned for these inputs
   * @param gradOutput ∂L/∂out, (batch, length, d_v)
   * @param initialState the initial state the forward pass used (null for zeros)
   */
  public Gradients causalBackward(INDArray queryFeatures, INDArray keyFeatures, INDArray values,
      INDArray initialState, Forward forward, INDArray gradOutput) {
    Shapes s = Shapes.of(queryFeatures, keyFeatures, values, initialState);
    Checks.notNull("forward", forward);
    Checks.rank3("gradOutput", gradOutput, s.batch, s.length, s.valueDim);
    Checks.sameType(queryFeatures, gradOutput);
    DataType type = queryFeatures.dataType();
    INDArray valuesAug = withOnes(values);
    INDArray gradAug = gradientOfNumerators(forward, gradOutput, s); // G' (B, L, dv+1)
    INDArray gradQ = Nd4j.createUninitialized(type, new long[] {s.batch, s.length, s.features}, 'c');
    INDArray gradK = Nd4j.createUninitialized(type, new long[] {s.batch, s.length, s.features}, 'c');
    INDArray gradV = Nd4j.createUninitialized(type, new long[] {s.batch, s.length,
        s.valueDim + 1}, 'c');
    Scratch scratch = new Scratch(type);
    long[] stateShape = {s.batch, s.features, s.valueDim + 1};
    INDArray stateUpdate = scratch.get("update", stateShape);

    // forward scan: ∂q'_i = S'_i G'_i = Σ_{j≤i} (G'_iᵀ v'_j) k'_j
    INDArray prefix = initialState == null
        ? Nd4j.zeros(type, s.batch, s.features, s.valueDim + 1)
        : initialState.dup('c');
    for (long c0 = 0; c0 < s.length; c0 += chunk) {
      long c1 = Math.min(s.length, c0 + chunk);
      long n = c1 - c0;
      INDArray k = rows(keyFeatures, c0, c1);
      INDArray v = rows(valuesAug, c0, c1);
      INDArray g = rows(gradAug, c0, c1);
      INDArray mBlock = scratch.get("m", s.batch, n, n); // G'_iᵀ v'_j for j ≤ i
      Nd4j.matmul(g, v, mBlock, false, true, false);
      mBlock.muli(lowerTriangle((int) n, type));
      INDArray inChunk = scratch.get("fq", s.batch, n, s.features);
      Nd4j.matmul(mBlock, k, inChunk, false, false, false);
      INDArray carried = scratch.get("fq2", s.batch, n, s.features);
      Nd4j.matmul(g, prefix, carried, false, true, false); // G'_c S'ᵀ
      rows(gradQ, c0, c1).assign(inChunk.addi(carried));
      Nd4j.matmul(k, v, stateUpdate, true, false, false);
      prefix.addi(stateUpdate);
    }

    // reverse scan: ∂k'_j = R_j v'_j, ∂v'_j = R_jᵀ k'_j, R_j = Σ_{i≥j} q'_i G'_iᵀ
    INDArray suffix = Nd4j.zeros(type, s.batch, s.features, s.valueDim + 1);
    long lastStart = ((s.length - 1) / chunk) * chunk;
    for (long c0 = lastStart; c0 >= 0; c0 -= chunk) {
      long c1 = Math.min(s.length, c0 + chunk);
      long n = c1 - c0;
      INDArray q = rows(queryFeatures, c0, c1);
      INDArray k = rows(keyFeatures, c0, c1);
      INDArray v = rows(valuesAug, c0, c1);
      INDArray g = rows(gradAug, c0, c1);
      INDArray tril = lowerTriangle((int) n, type);
      INDArray mBlock = scratch.get("m", s.batch, n, n); // G'_iᵀ v'_j for j ≤ i
      Nd4j.matmul(g, v, mBlock, false, true, false);
      mBlock.muli(tril);
      INDArray aBlock = scratch.get("a", s.batch, n, n); // q'_iᵀ k'_j for j ≤ i
      Nd4j.matmul(q, k, aBlock, false, true, false);
      aBlock.muli(tril);
      // ∂K'_c = Mᵀ Q'_c + V'_c Rᵀ
      INDArray inChunk = scratch.get("fq", s.batch, n, s.features);
      Nd4j.matmul(mBlock, q, inChunk, true, false, false);
      INDArray carried = scratch.get("fq2", s.batch, n, s.features);
      Nd4j.matmul(v, suffix, carried, false, true, false);
      rows(gradK, c0, c1).assign(inChunk.addi(carried));
      // ∂V'_c = Aᵀ G'_c + K'_c R
      INDArray vIn = scratch.get("out", s.batch, n, s.valueDim + 1);
      Nd4j.matmul(aBlock, g, vIn, true, false, false);
      INDArray vCarried = scratch.get("carried", s.batch, n, s.valueDim + 1);
      Nd4j.matmul(k, suffix, vCarried, false, false, false);
      rows(gradV, c0, c1).assign(vIn.addi(vCarried));
      // R += Q'_cᵀ G'_c
      Nd4j.matmul(q, g, stateUpdate, true, false, false);
      suffix.addi(stateUpdate);
    }
    return new Gradients(gradQ, gradK, dropOnes(gradV, s));
  }

  /** Bidirectional forward: every position attends to every position. */
  public Forward bidirectional(INDArray queryFeatures, INDArray keyFeatures, INDArray values) {
    Shapes s = Shapes.of(queryFeatures, keyFeatures, values, null);
    DataType type = queryFeatures.dataType();
    INDArray state = Nd4j.createUninitialized(type, new long[] {s.batch, s.features,
        s.valueDim + 1}, 'c');
    Nd4j.matmul(keyFeatures, withOnes(values), state, true, false, false); // T = K'ᵀ V'
    INDArray numerators = Nd4j.createUninitialized(type, new long[] {s.batch, s.length,
        s.valueDim + 1}, 'c');
    Nd4j.matmul(queryFeatures, state, numerators, false, false, false); // Q' T
    return finish(numerators, s, state);
  }

  /** Bidirectional backward. */
  public Gradients bidirectionalBackward(INDArray queryFeatures, INDArray keyFeatures,
      INDArray values, Forward forward, INDArray gradOutput) {
    Shapes s = Shapes.of(queryFeatures, keyFeatures, values, null);
    Checks.notNull("forward", forward);
    Checks.rank3("gradOutput", gradOutput, s.batch, s.length, s.valueDim);
    Checks.sameType(queryFeatures, gradOutput);
    DataType type = queryFeatures.dataType();
    INDArray valuesAug = withOnes(values);
    INDArray gradAug = gradientOfNumerators(forward, gradOutput, s);
    INDArray t = forward.finalState(); // T = K'ᵀ V', (B, m, dv+1)
    INDArray gradQ = Nd4j.createUninitialized(type, new long[] {s.batch, s.length, s.features}, 'c');
    Nd4j.matmul(gradAug, t, gradQ, false, true, false); // G' Tᵀ
    INDArray gradT = Nd4j.createUninitialized(type, t.shape(), 'c');
    Nd4j.matmul(queryFeatures, gradAug, gradT, true, false, false); // Q'ᵀ G'
    INDArray gradK = Nd4j.createUninitialized(type, new long[] {s.batch, s.length, s.features}, 'c');
    Nd4j.matmul(valuesAug, gradT, gradK, false, true, false); // V' ∂Tᵀ
    INDArray gradV = Nd4j.createUninitialized(type, valuesAug.shape(), 'c');
    Nd4j.matmul(keyFeatures, gradT, gradV, false, false, false); // K' ∂T
    return new Gradients(gradQ, gradK, dropOnes(gradV, s));
  }

  /** out = num / (den + δ) from [num | den]. */
  private static Forward finish(INDArray numerators, Shapes s, INDArray state) {
    INDArray denominator = numerators.get(all(), all(), interval(s.valueDim, s.valueDim + 1))
        .add(DENOMINATOR_EPSILON); // (B, L, 1)
    INDArray output = numerators.get(all(), all(), interval(0, s.valueDim)).dup('c');
    output.divi(denominator);
    return new Forward(output, denominator, state);
  }

  /** G' = [g/(den+δ), −Σ(g ⊙ out)/(den+δ)], (B, L, dv+1). */
  private static INDArray gradientOfNumerators(Forward forward, INDArray gradOutput, Shapes s) {
    Checks.rank3("forward.output", forward.output(), s.batch, s.length, s.valueDim);
    INDArray gradAug = Nd4j.createUninitialized(gradOutput.dataType(), new long[] {s.batch,
        s.length, s.valueDim + 1}, 'c');
    INDArray gradNum = gradOutput.div(forward.denominator());
    gradAug.get(all(), all(), interval(0, s.valueDim)).assign(gradNum);
    INDArray gradDen = gradNum.muli(forward.output()).sum(2).negi(); // (B, L)
    gradAug.get(all(), all(), point(s.valueDim)).assign(gradDen);
    return gradAug;
  }

  /** [v, 1]: (B, L, dv) → (B, L, dv+1). */
  private static INDArray withOnes(INDArray values) {
    long dv = values.size(2);
    INDArray aug = Nd4j.createUninitialized(values.dataType(), new long[] {values.size(0),
        values.size(1), dv + 1}, 'c');
    aug.get(all(), all(), interval(0, dv)).assign(values);
    aug.get(all(), all(), point(dv)).assign(1.0);
    return aug;
  }

  private static INDArray dropOnes(INDArray aug, Shapes s) {
    return aug.get(all(), all(), interval(0, s.valueDim)).dup('c');
  }

  /** Positions [c0, c1) of every sequence: a view. */
  static INDArray rows(INDArray a, long c0, long c1) {
    return a.get(all(), interval(c0, c1), all());
  }

  /** The n × n lower-triangular matrix of ones (diagonal included), cached per size and type. */
  static INDArray lowerTriangle(int n, DataType type) {
    return LOWER_TRIANGLES.computeIfAbsent(n + ":" + type, key -> {
      double[] data = new double[n * n];
      for (int i = 0; i < n; i++) {
        for (int j = 0; j <= i; j++) {
          data[i * n + j] = 1;
        }
      }
      // cached across calls: must not live in a caller's workspace
      try (var ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
        return Nd4j.create(data, new long[] {n, n}, 'c').castTo(type);
      }
    });
  }

  /** Validated dimensions of one call. */
  private record Shapes(long batch, long length, long features, long valueDim) {
    static Shapes of(INDArray q, INDArray k, INDArray v, INDArray initialState) {
      Checks.rank3("queryFeatures", q, -1, -1, -1);
      long b = q.size(0);
      long l = q.size(1);
      long m = q.size(2);
      Checks.rank3("keyFeatures", k, b, l, m);
      Checks.rank3("values", v, b, l, -1);
      Checks.sameType(q, k, v);
      if (initialState != null) {
        Checks.rank3("initialState", initialState, b, m, v.size(2) + 1);
        Checks.sameType(q, initialState);
      }
      return new Shapes(b, l, m, v.size(2));
    }
  }

  /**
   * Per-call buffers reused across chunks (fresh memory is slow to touch on these machines): one
   * array per slot, replaced only when the shape changes (the last, shorter chunk).
   */
  private static final class Scratch {
    private final DataType type;
    private final Map<String, INDArray> buffers = new HashMap<>();

    Scratch(DataType type) {
      this.type = type;
    }

    INDArray get(String slot, long... shape) {
      INDArray buffer = buffers.get(slot);
      if (buffer == null || !Arrays.equals(buffer.shape(), shape)) {
        buffer = Nd4j.createUninitialized(type, shape, 'c');
        buffers.put(slot, buffer);
      }
      return buffer;
    }
  }
}
