package dev.reranker.bench;

import dev.reranker.attention.FavorAttention;
import dev.reranker.attention.FavorProjection;
import dev.reranker.attention.FavorState;
import dev.reranker.attention.FavorStepKernel;
import dev.reranker.attention.FeatureMap;
import dev.reranker.attention.GaussianSampler;
import dev.reranker.attention.SoftmaxAttention;
import dev.reranker.attention.SoftmaxKvCache;
import dev.reranker.attention.SoftmaxStepKernel;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * FAVOR+ against exact softmax attention at growing history lengths: the cost of encoding a whole
 * history in one batch, the cost of folding one more event into a user whose history already has
 * that length, and the size of the per-user state.
 *
 * <p>What is measured, per length L (one user; {@code heads} heads of d/heads dimensions; random
 * q, k, v with N(0, 1) entries):
 * <ul>
 *   <li>{@code *_encode_ms}: a batched causal encode of the whole history from an empty state
 *       ({@link FavorAttention}: features plus chunked linear attention; {@link SoftmaxAttention}:
 *       row-blocked exact attention). Median of {@code repeats} runs after untimed ones at that
 *       size, each run in a reused ND4J workspace as the engine's batched passes are (the first
 *       touch of fresh native memory is slow on these machines).</li>
 *   <li>{@code *_step_us}: one event folded by the plain-array step kernels into the state of that
 *       history: the FAVOR+ state is the encode's final [S | z]; the softmax KV cache holds the L
 *       keys and values. Each softmax step is undone ({@link SoftmaxKvCache#truncate}) so every
 *       timed step sees exactly L cached events; a FAVOR+ step costs the same at any position, and
 *       each round starts from a copy of the L-event state. Median over rounds.</li>
 *   <li>{@code *_state_bytes}: {@code byteSize()} of those states.</li>
 *   <li>{@code *_encode_peak_bytes}: the live ND4J arrays of the encode at their largest, computed
 *       from the shapes the algorithms allocate (inputs, features, outputs, carried state and
 *       per-chunk or per-block scratch); {@code materialised_prefix_bytes} is what a cumulative sum
 *       of φ(k)vᵀ over positions (the unchunked form) would need on top.</li>
 * </ul>
 */
public final class AttentionBenchmark {

  /** Benchmark settings; see {@code bench attention --help}. */
  public record Options(List<Integer> lengths, int modelDim, int heads, int features,
      FeatureMap.Kernel kernel, int chunk, int block, int repeats, long seed) {
    public Options {
      if (lengths == null || lengths.isEmpty()) {
        throw new IllegalArgumentException("at least one length is needed");
      }
      for (int l : lengths) {
        if (l < 1) {
          throw new IllegalArgumentException("lengths must be ≥ 1, got " + l);
        }
      }
      if (heads < 1 || modelDim < heads || modelDim % heads != 0) {
        throw new IllegalArgumentException("dim must be a positive multiple of heads, got dim="
            + modelDim + ", heads=" + heads);
      }
      if (features < 1 || chunk < 1 || block < 1 || repeats < 1) {
        throw new IllegalArgumentException("features, chunk, block and repeats must be ≥ 1");
      }
    }

    int headDim() {
      return modelDim / heads;
    }
  }

  /** One length's measurements. */
  /**
   * One length's measurements. {@code favorEncodeMs} is the batched ND4J encode (chunked, what
   * training runs); {@code favorPlainEncodeMs} the same causal encode stepped position by position
   * on plain arrays in the JVM's {@code FloatKernels} (what a cold rebuild of a user's state can
   * run), from the same q, k and v laid out position-major.
   */
  public record Row(int length, double favorEncodeMs, double softmaxEncodeMs, double favorStepUs,
      double softmaxStepUs, long favorStateBytes, long softmaxStateBytes,
      long favorEncodePeakBytes, long softmaxEncodePeakBytes, long materialisedPrefixBytes,
      double favorPlainEncodeMs, double softmaxPlainEncodeMs) {}

  private static final int STEP_EVENTS = 512;

  private final Options options;
  private final PrintStream log;
  private Roofline roofline;

  public AttentionBenchmark(Options options, PrintStream log) {
    this.options = options;
    this.log = log;
  }

  public List<Row> run() {
    int heads = options.heads();
    int headDim = options.headDim();
    FeatureMap map = FeatureMap.of(options.kernel(),
        FavorProjection.orthogonal(options.features(), headDim, options.seed()));
    FavorAttention favor = new FavorAttention(map, options.chunk());
    SoftmaxAttention softmax = new SoftmaxAttention(options.block());

    // warm up the JIT and ND4J's op setup on a small history
    warmUp(favor, softmax, map);
    roofline = Roofline.measure(rooflineShapes(options));
    log.println(roofline.describe());

    float[][] events = randomEvents(heads * headDim, STEP_EVENTS, options.seed() + 1);
    List<Row> rows = new ArrayList<>();
    for (int length : options.lengths()) {
      INDArray q = gaussian(options.seed() + 10, heads, length, headDim);
      INDArray k = gaussian(options.seed() + 11, heads, length, headDim);
      INDArray v = gaussian(options.seed() + 12, heads, length, headDim);

      FavorAttention.FavorForward last = favor.forward(q, k, v); // untimed: first touch
      double favorMs = medianMillis(options.repeats(), "favor-" + length,
          () -> favor.forward(q, k, v));
      softmax.forward(q, k, v);
      double softmaxMs = medianMillis(options.repeats(), "softmax-" + length,
          () -> softmax.forward(q, k, v));

      FavorStepKernel stepKernel = new FavorStepKernel(map, heads, headDim);
      float[] qRows = positionMajor(q);
      float[] kRows = positionMajor(k);
      float[] vRows = positionMajor(v);
      float[] plainOut = new float[vRows.length];
      double favorPlainMs = medianMillis(options.repeats(), "favor-plain-" + length,
          () -> stepKernel.encode(stepKernel.newState(), qRows, kRows, vRows, length, plainOut));
      SoftmaxStepKernel softmaxKernel = new SoftmaxStepKernel(heads, headDim, headDim);
      double softmaxPlainMs = medianMillis(options.repeats(), "softmax-plain-" + length,
          () -> softmaxKernel.encode(softmaxKernel.newState(), qRows, kRows, vRows, length,
              plainOut));

      FavorState favorState = FavorState.fromArray(last.finalState(), length);
      double favorStepUs = favorStepMicros(stepKernel, favorState, events);
      SoftmaxKvCache cache = SoftmaxKvCache.of(k, v);
      double softmaxStepUs = softmaxStepMicros(new SoftmaxStepKernel(heads, headDim, headDim),
          cache, events);

      Row row = new Row(length, favorMs, softmaxMs, favorStepUs, softmaxStepUs,
          favorState.byteSize(), cache.byteSize(), favorPeakBytes(length),
          softmaxPeakBytes(length), 4L * heads * length * options.features() * (headDim + 1),
          favorPlainMs, softmaxPlainMs);
      rows.add(row);
      log.printf("  L=%-6d favor encode %9.2f ms (plain arrays %9.2f ms)  softmax encode %10.2f ms"
          + " (plain arrays %10.2f ms)  favor step %8.2f µs  softmax step %10.2f µs%n", length,
          favorMs, favorPlainMs, softmaxMs, softmaxPlainMs, favorStepUs, softmaxStepUs);
    }
    return rows;
  }

  /** (heads, length, d) → (length, heads·d) row-major: each position's heads side by side. */
  static float[] positionMajor(INDArray x) {
    int heads = (int) x.size(0);
    int length = (int) x.size(1);
    int d = (int) x.size(2);
    float[] src = x.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).dup('c').data().asFloat();
    float[] out = new float[src.length];
    for (int h = 0; h < heads; h++) {
      for (int t = 0; t < length; t++) {
        System.arraycopy(src, (h * length + t) * d, out, (t * heads + h) * d, d);
      }
    }
    return out;
  }

  private void warmUp(FavorAttention favor, SoftmaxAttention softmax, FeatureMap map) {
    int heads = options.heads();
    int headDim = options.headDim();
    INDArray q = gaussian(1, heads, 512, headDim);
    for (int i = 0; i < 5; i++) {
      favor.forward(q, q, q);
      softmax.forward(q, q, q);
    }
    float[][] events = randomEvents(heads * headDim, STEP_EVENTS, 2);
    FavorStepKernel favorStep = new FavorStepKernel(map, heads, headDim);
    FavorState state = favorStep.newState();
    float[] out = new float[heads * headDim];
    for (int i = 0; i < 50_000; i++) {
      float[] e = events[i % STEP_EVENTS];
      favorStep.step(state, e, e, e, out);
    }
    float[] rows = positionMajor(q);
    float[] encoded = new float[rows.length];
    SoftmaxStepKernel softmaxEncoder = new SoftmaxStepKernel(heads, headDim, headDim);
    for (int i = 0; i < 20; i++) { // 512 positions runs the heads in parallel, 256 on the caller
      favorStep.encode(favorStep.newState(), rows, rows, rows, 512, encoded);
      softmaxEncoder.encode(softmaxEncoder.newState(), rows, rows, rows, 512, encoded);
      softmaxEncoder.encode(softmaxEncoder.newState(), rows, rows, rows, 256, encoded);
    }
    SoftmaxStepKernel softmaxStep = new SoftmaxStepKernel(heads, headDim, headDim);
    SoftmaxKvCache cache = softmaxStep.newState();
    for (int i = 0; i < 3_000; i++) {
      float[] e = events[i % STEP_EVENTS];
      softmaxStep.step(cache, e, e, e, out);
    }
  }

  private static double favorStepMicros(FavorStepKernel kernel, FavorState historyState,
      float[][] events) {
    int stepsPerRound = 2_000;
    int rounds = 25;
    float[] out = new float[events[0].length];
    double[] perStep = new double[rounds];
    for (int r = 0; r < rounds; r++) {
      FavorState state = historyState.copy();
      long start = System.nanoTime();
      for (int i = 0; i < stepsPerRound; i++) {
        float[] e = events[i % events.length];
        kernel.step(state, e, e, e, out);
      }
      perStep[r] = (System.nanoTime() - start) / 1e3 / stepsPerRound;
    }
    return median(perStep);
  }

  private static double softmaxStepMicros(SoftmaxStepKernel kernel, SoftmaxKvCache cache,
      float[][] events) {
    int length = cache.length();
    int stepsPerRound = Math.max(5, 1_000_000 / length);
    int rounds = 15;
    float[] out = new float[events[0].length];
    double[] perStep = new double[rounds];
    for (int r = 0; r < rounds; r++) {
      long start = System.nanoTime();
      for (int i = 0; i < stepsPerRound; i++) {
        float[] e = events[i % events.length];
        kernel.step(cache, e, e, e, out);
        cache.truncate(length); // undo: the next step again sees exactly `length` events
      }
      perStep[r] = (System.nanoTime() - start) / 1e3 / stepsPerRound;
    }
    return median(perStep);
  }

  /**
   * The GEMM shapes of an encode, with the positions of a long history as rows: the FAVOR+
   * feature projection (x·Wᵀ), its chunked readout (φ(q)·[S | z]) and a chunk's scores
   * (φ(q)·φ(k)ᵀ), and the softmax scores (q·kᵀ over a row block).
   */
  static Map<String, int[]> rooflineShapes(Options o) {
    Map<String, int[]> shapes = new LinkedHashMap<>();
    int d = o.headDim();
    int m = o.features();
    shapes.put("feature projection", new int[] {4096, d, m});
    shapes.put("state readout", new int[] {4096, m, d + 1});
    shapes.put("chunk scores", new int[] {o.chunk(), m, o.chunk()});
    shapes.put("softmax block scores", new int[] {o.block(), d, 4096});
    return shapes;
  }

  /**
   * FLOP of a FAVOR+ causal encode in the chunked form, per head: the q and k feature
   * projections (2 × 2Ldm), and per chunk of c positions the scores φ(q)φ(k)ᵀ (2c²m), their masked
   * product with [v, 1] (2c²(d+1)), the readout φ(q)[S | z] (2cm(d+1)) and the state update
   * φ(k)ᵀ[v, 1] (2cm(d+1)). Elementwise work (exp, norms, division) is not counted: the roof is a
   * GEMM rate.
   */
  public static double favorEncodeFlop(int length, int heads, int headDim, int features,
      int chunk) {
    double l = length;
    double d = headDim;
    double m = features;
    double c = Math.min(chunk, length);
    double projections = 2 * 2 * l * d * m;
    double perPosition = 2 * c * m + 2 * c * (d + 1) + 4 * m * (d + 1);
    return heads * (projections + l * perPosition);
  }

  /**
   * FLOP of a FAVOR+ causal encode stepped position by position, per head: the q and k feature
   * projections (2 × 2Ldm), and per position the state update φ(k)ᵀ[v, 1] and the readout
   * φ(q)[S | z] (2 × 2m(d+1)). The fewest FLOP of any causal form (no c² chunk scores), so its
   * floor is the lowest.
   */
  public static double favorSteppedEncodeFlop(int length, int heads, int headDim, int features) {
    double l = length;
    double d = headDim;
    double m = features;
    return heads * l * (4 * d * m + 4 * m * (d + 1));
  }

  /** FLOP of an exact causal softmax encode, per head: q·kᵀ and weights·v over the L(L+1)/2 pairs. */
  public static double softmaxEncodeFlop(int length, int heads, int headDim) {
    double pairs = (double) length * (length + 1) / 2;
    return heads * 2 * 2 * pairs * headDim;
  }

  /** Bytes an encode must move at least: q, k, v in and the output out, fp32. */
  public static double encodeBytes(int length, int heads, int headDim) {
    return 4.0 * 4 * heads * length * headDim;
  }

  /**
   * Live bytes of a FAVOR+ causal encode at its peak (see the class comment): the chunked form runs
   * a slab of chunks at once (at most {@link FavorAttention#SLAB_ELEMENTS} block numbers), so its scratch is the slab's n × n
   * blocks, the zero-padded chunk copies of q', k', [v, 1], the slab's numerators twice, and the
   * per-chunk states (the updates, their prefix sum in double, the carried states).
   */
  private long favorPeakBytes(long length) {
    long h = options.heads();
    long d = options.headDim();
    long m = options.features();
    long chunks = Math.max(1, (length + options.chunk() - 1) / options.chunk());
    long n = (length + chunks - 1) / chunks; // equal chunks of at most C
    long slabChunks = Math.min(chunks, Math.max(1,
        FavorAttention.SLAB_ELEMENTS / (h * n * n)));
    long slab = slabChunks * n;
    long inputs = 3 * h * length * d;
    long features = 2 * h * length * m;
    long projectionScratch = 2 * h * length * d + h * length; // x̃ and ‖x̃‖² while mapping
    long augmented = 2 * h * length * (d + 1); // [v, 1] and [num | den]
    long outputs = h * length * d + h * length; // out and den
    long blocks = h * slabChunks * n * n;
    long chunkCopies = h * slab * (2 * m + d + 1);
    long slabNumerators = 2 * h * slab * (d + 1);
    long chunkStates = h * slabChunks * m * (d + 1) * (1 + 2 * 2 + 1); // float, 2 double, float
    return 4 * (inputs + features + projectionScratch + augmented + outputs + blocks + chunkCopies
        + slabNumerators + chunkStates);
  }

  /** Live bytes of a row-blocked exact softmax encode at its peak. */
  private long softmaxPeakBytes(long length) {
    long h = options.heads();
    long d = options.headDim();
    long r = Math.min(options.block(), length);
    long inputs = 3 * h * length * d;
    long outputs = h * length * d + h * length; // out and log-sum-exp
    long block = 2 * h * r * length + h * r * d; // scores (and their masked/exp copy), block output
    return 4 * (inputs + outputs + block);
  }

  /** The JSON document: config, machine, one entry per length, and the headline ratios. */
  public Map<String, Object> report(List<Row> rows) {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("benchmark", "attention");
    Map<String, Object> config = new LinkedHashMap<>();
    config.put("lengths", options.lengths());
    config.put("dim", options.modelDim());
    config.put("heads", options.heads());
    config.put("head_dim", options.headDim());
    config.put("features", options.features());
    config.put("kernel", options.kernel().name().toLowerCase());
    config.put("chunk", options.chunk());
    config.put("softmax_block", options.block());
    config.put("repeats", options.repeats());
    config.put("seed", options.seed());
    doc.put("config", config);
    doc.put("machine", Machine.describe());
    List<Map<String, Object>> results = new ArrayList<>();
    for (Row r : rows) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("length", r.length());
      m.put("favor_encode_ms", round(r.favorEncodeMs()));
      m.put("softmax_encode_ms", round(r.softmaxEncodeMs()));
      m.put("favor_step_us", round(r.favorStepUs()));
      m.put("softmax_step_us", round(r.softmaxStepUs()));
      m.put("favor_state_bytes", r.favorStateBytes());
      m.put("softmax_state_bytes", r.softmaxStateBytes());
      m.put("encode_speedup", round(r.softmaxEncodeMs() / r.favorEncodeMs()));
      m.put("step_speedup", round(r.softmaxStepUs() / r.favorStepUs()));
      m.put("state_ratio", round((double) r.softmaxStateBytes() / r.favorStateBytes()));
      m.put("favor_encode_peak_bytes", r.favorEncodePeakBytes());
      m.put("softmax_encode_peak_bytes", r.softmaxEncodePeakBytes());
      m.put("materialised_prefix_bytes", r.materialisedPrefixBytes());
      if (roofline != null) {
        double favorFlop = favorEncodeFlop(r.length(), options.heads(), options.headDim(),
            options.features(), options.chunk());
        double softmaxFlop = softmaxEncodeFlop(r.length(), options.heads(), options.headDim());
        double bytes = encodeBytes(r.length(), options.heads(), options.headDim());
        m.put("favor_encode_flop", favorFlop);
        m.put("favor_encode_floor_ms", round(roofline.floorSeconds(favorFlop, bytes) * 1e3));
        m.put("favor_encode_roofline_fraction", round(roofline.fraction(favorFlop, bytes,
            r.favorEncodeMs() / 1e3)));
        m.put("favor_encode_gflops", round(favorFlop / (r.favorEncodeMs() * 1e6)));
        double plainFlop = favorSteppedEncodeFlop(r.length(), options.heads(), options.headDim(),
            options.features());
        m.put("favor_plain_encode_ms", round(r.favorPlainEncodeMs()));
        m.put("favor_plain_encode_flop", plainFlop);
        m.put("favor_plain_encode_floor_ms", round(roofline.floorSeconds(plainFlop, bytes) * 1e3));
        m.put("favor_plain_encode_roofline_fraction", round(roofline.fraction(plainFlop, bytes,
            r.favorPlainEncodeMs() / 1e3)));
        m.put("softmax_encode_flop", softmaxFlop);
        m.put("softmax_plain_encode_ms", round(r.softmaxPlainEncodeMs()));
        m.put("softmax_plain_encode_roofline_fraction", round(roofline.fraction(softmaxFlop,
            bytes, r.softmaxPlainEncodeMs() / 1e3)));
        m.put("softmax_encode_roofline_fraction", round(roofline.fraction(softmaxFlop, bytes,
            r.softmaxEncodeMs() / 1e3)));
      }
      results.add(m);
    }
    doc.put("results", results);
    if (roofline != null) {
      doc.put("roofline", roofline.toJson());
      Map<String, Object> byLength = new LinkedHashMap<>();
      results.forEach(m -> byLength.put(String.valueOf(m.get("length")),
          m.get("favor_encode_roofline_fraction")));
      doc.put("favor_encode_roofline_fraction", byLength);
      doc.put("favor_encode_roofline_target", ">= 0.25 at every length");
      doc.put("favor_encode_roofline_met", results.stream().allMatch(m ->
          (Double) m.get("favor_encode_roofline_fraction") >= 0.25));
      Map<String, Object> plainByLength = new LinkedHashMap<>();
      results.forEach(m -> plainByLength.put(String.valueOf(m.get("length")),
          m.get("favor_plain_encode_roofline_fraction")));
      doc.put("favor_plain_encode_roofline_fraction", plainByLength);
      doc.put("favor_plain_encode_roofline_met", results.stream().allMatch(m ->
          (Double) m.get("favor_plain_encode_roofline_fraction") >= 0.25));
    }
    doc.put("targets", targets(rows));
    return doc;
  }

  /** The three targets, evaluated on the shortest and longest length measured. */
  public static Map<String, Object> targets(List<Row> rows) {
    Row shortest = rows.stream().min((a, b) -> Integer.compare(a.length(), b.length())).orElseThrow();
    Row longest = rows.stream().max((a, b) -> Integer.compare(a.length(), b.length())).orElseThrow();
    Map<String, Object> t = new LinkedHashMap<>();
    double flat = longest.favorStepUs() / shortest.favorStepUs();
    double speedup = longest.softmaxEncodeMs() / longest.favorEncodeMs();
    double smaller = (double) longest.softmaxStateBytes() / longest.favorStateBytes();
    t.put("favor_step_ratio_longest_vs_shortest", round(flat));
    t.put("favor_step_flat_target", "<= 1.3");
    t.put("favor_step_flat_met", flat <= 1.3);
    t.put("encode_speedup_at_longest", round(speedup));
    t.put("encode_speedup_target", ">= 10");
    t.put("encode_speedup_met", speedup >= 10);
    t.put("state_ratio_at_longest", round(smaller));
    t.put("state_ratio_target", ">= 50");
    t.put("state_ratio_met", smaller >= 50);
    return t;
  }

  /** The table printed after the run. */
  public static String table(List<Row> rows) {
    StringBuilder b = new StringBuilder();
    b.append(String.format("| %6s | %12s | %14s | %7s | %11s | %13s | %7s | %11s | %13s | %7s |%n",
        "length", "favor enc ms", "softmax enc ms", "enc ×", "favor st µs", "softmax st µs",
        "step ×", "favor B", "softmax B", "state ×"));
    b.append("|-------:|-------------:|---------------:|--------:|------------:|--------------:|"
        + "--------:|------------:|--------------:|--------:|\n");
    for (Row r : rows) {
      b.append(String.format(
          "| %6d | %12.2f | %14.2f | %7.1f | %11.2f | %13.2f | %7.1f | %11d | %13d | %7.1f |%n",
          r.length(), r.favorEncodeMs(), r.softmaxEncodeMs(),
          r.softmaxEncodeMs() / r.favorEncodeMs(), r.favorStepUs(), r.softmaxStepUs(),
          r.softmaxStepUs() / r.favorStepUs(), r.favorStateBytes(), r.softmaxStateBytes(),
          (double) r.softmaxStateBytes() / r.favorStateBytes()));
    }
    Map<String, Object> t = targets(rows);
    b.append(String.format("%nFAVOR+ step, longest vs shortest history: %.2f× (target ≤ 1.3: %s)%n",
        (Double) t.get("favor_step_ratio_longest_vs_shortest"), met(t, "favor_step_flat_met")));
    b.append(String.format("Cold encode at the longest length, softmax / FAVOR+: %.1f× (target ≥ 10: %s)%n",
        (Double) t.get("encode_speedup_at_longest"), met(t, "encode_speedup_met")));
    b.append(String.format("State at the longest length, KV cache / FAVOR+: %.1f× (target ≥ 50: %s)%n",
        (Double) t.get("state_ratio_at_longest"), met(t, "state_ratio_met")));
    Row longest = rows.get(rows.size() - 1);
    b.append(String.format("Peak encode memory at L=%d: FAVOR+ %.1f MB (a materialised prefix sum "
        + "would add %.1f MB), softmax %.1f MB%n", longest.length(),
        longest.favorEncodePeakBytes() / 1e6, longest.materialisedPrefixBytes() / 1e6,
        longest.softmaxEncodePeakBytes() / 1e6));
    return b.toString();
  }

  /** Achieved ÷ floor per length, from the report (empty when no roofline was measured). */
  @SuppressWarnings("unchecked")
  public static String rooflineTable(Map<String, Object> doc) {
    Map<String, Object> roof = (Map<String, Object>) doc.get("roofline");
    if (roof == null) {
      return "";
    }
    StringBuilder b = new StringBuilder(String.format("Roofline (this thread): sgemm %.1f GFLOP/s "
        + "at the encode's shapes, copy %.1f GB/s%n", (Double) roof.get("sgemm_gflops"),
        (Double) roof.get("copy_gb_per_s")));
    b.append("| length | FAVOR+ GFLOP | FAVOR+ GFLOP/s | FAVOR+ floor ms | FAVOR+ / roofline "
        + "| plain-array FAVOR+ ms (floor ms, ÷ floor) | softmax / roofline |\n"
        + "|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Map<String, Object> m : (List<Map<String, Object>>) doc.get("results")) {
      b.append(String.format("| %d | %.3f | %.1f | %.3f | %.3f | %s | %.3f |%n", m.get("length"),
          (Double) m.get("favor_encode_flop") / 1e9, m.get("favor_encode_gflops"),
          m.get("favor_encode_floor_ms"), m.get("favor_encode_roofline_fraction"),
          m.get("favor_plain_encode_ms") == null ? "" : String.format("%.3f (%.3f, %.3f)",
              m.get("favor_plain_encode_ms"), m.get("favor_plain_encode_floor_ms"),
              m.get("favor_plain_encode_roofline_fraction")),
          m.get("softmax_encode_roofline_fraction")));
    }
    b.append(String.format("FAVOR+ encode ≥ 0.25 of its roofline at every length: batched ND4J "
        + "%s, plain arrays %s%n",
        Boolean.TRUE.equals(doc.get("favor_encode_roofline_met")) ? "met" : "NOT met",
        Boolean.TRUE.equals(doc.get("favor_plain_encode_roofline_met")) ? "met" : "NOT met"));
    return b.toString();
  }

  private static String met(Map<String, Object> t, String key) {
    return Boolean.TRUE.equals(t.get(key)) ? "met" : "NOT met";
  }

  private INDArray gaussian(long seed, int heads, int length, int dim) {
    GaussianSampler g = new GaussianSampler(seed);
    float[] data = new float[heads * length * dim];
    g.fill(data, 1.0);
    return Nd4j.create(data, new long[] {heads, length, dim}, 'c');
  }

  private static float[][] randomEvents(int width, int count, long seed) {
    GaussianSampler g = new GaussianSampler(seed);
    float[][] events = new float[count][width];
    for (float[] e : events) {
      g.fill(e, 1.0);
    }
    return events;
  }

  /**
   * Median ms of {@code work}, each run in the same reused ND4J workspace, as the engine runs its
   * batched passes ({@code Workspaces.PER_PASS}): fresh native memory costs page faults on every
   * touch here (a 4 MB temporary took 12 ms to create and scale), which both arms would otherwise
   * pay on every intermediate array. The workspace sizes itself over two untimed runs.
   */
  private static double medianMillis(int repeats, String workspace, Runnable work) {
    double[] ms = new double[repeats + WORKSPACE_LEARNING_RUNS];
    for (int i = 0; i < ms.length; i++) {
      try (org.nd4j.linalg.api.memory.MemoryWorkspace ignored = org.nd4j.linalg.factory.Nd4j
          .getWorkspaceManager().getAndActivateWorkspace(
              dev.reranker.model.Workspaces.PER_PASS, "bench-" + workspace)) {
        long start = System.nanoTime();
        work.run();
        ms[i] = (System.nanoTime() - start) / 1e6;
      }
    }
    return median(Arrays.copyOfRange(ms, WORKSPACE_LEARNING_RUNS, ms.length));
  }

  /** Untimed runs while a {@code PER_PASS} workspace learns its size. */
  private static final int WORKSPACE_LEARNING_RUNS = 2;

  static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  static double round(double x) {
    return Math.round(x * 1000) / 1000.0;
  }
}
