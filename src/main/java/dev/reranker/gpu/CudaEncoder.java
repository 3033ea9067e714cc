package dev.reranker.gpu;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The FAVOR+ encoder on one GPU: folds many users' new events into their [S | z] states in
 * passes, each pass every event row's position-wise work as cuBLAS GEMMs over all rows and the
 * project's kernels ({@code favor_encoder.cu}) for the rest, with one causal scan per layer that
 * carries each user's state through that user's rows. One new event for 16,384 users and a cold
 * re-encode of 64 users' 10,000-event histories are the same pass with different shapes.
 *
 * <h2>A pass, in pipeline order</h2>
 * embed (item + position bucket + gap bucket) → per layer: LN₁ → q, k, v (GEMMs) → W·x̃ for
 * queries and keys (GEMMs) → features (φ, the stabilisers of the CPU feature map) → scan
 * (S[:, j] += φ(k)[v, 1]_j; num = φ(q)ᵀS) → num / (den + δ) → x += attended·W_o (GEMM) + b_o →
 * LN₂ → GELU(x·W₁ + b₁) → x += ·W₂ (GEMM) + b₂; then the final LN of each user's last row, the
 * user vector. The numerics follow the CPU reference in float32.
 *
 * <h2>States</h2>
 * {@link #fold} takes the states from host arrays and gives them back: one copy each way per pass
 * through page-locked buffers (what the service does: its states live in its cache).
 * {@link #foldResident} folds states kept in device memory ({@link DeviceStates}), for hot users
 * and for measuring what the copies cost.
 *
 * <p>Thread-safe: passes are serialised on the encoder's one stream.
 */
public final class CudaEncoder implements AutoCloseable {

  private static final int BLOCK = 256;
  /** The scan has few threads per user: smaller blocks spread short batches over more SMs. */
  private static final int SCAN_BLOCK = 64;
  /**
   * Rows per chunk of the chunked scan, used by a pass whose longest sequence exceeds it (a cold
   * re-encode): chunks run in parallel where the plain scan walks a sequence row after row.
   */
  public static final int CHUNK = 64;
  /** The feature counts the scan kernel is compiled for (its state column lives in registers). */
  public static final List<Integer> SUPPORTED_FEATURES = List.of(16, 32, 64);

  /**
   * One pass's rows: each sequence's events in order, sequences one after another.
   *
   * @param item the item's embedding row, per row
   * @param indexBucket the position bucket, per row ({@code OrderSignal.indexBucket})
   * @param gapBucket the time-gap bucket, per row
   * @param seqLength rows of each sequence (≥ 1); sequence s starts after those before it
   * @param seqSlot the state slot each sequence folds into
   */
  public record Rows(int[] item, int[] indexBucket, int[] gapBucket, int[] seqLength,
      int[] seqSlot) {
    public Rows {
      if (item.length != indexBucket.length || item.length != gapBucket.length
          || seqLength.length != seqSlot.length) {
        throw new IllegalArgumentException("rows and sequences must have one entry each");
      }
      long total = 0;
      for (int l : seqLength) {
        if (l < 1) {
          throw new IllegalArgumentException("every sequence needs ≥ 1 row");
        }
        total += l;
      }
      if (total != item.length) {
        throw new IllegalArgumentException("sequence lengths add up to " + total + ", rows "
            + item.length);
      }
    }

    public int rows() {
      return item.length;
    }

    public int sequences() {
      return seqLength.length;
    }
  }

  /**
   * Where a pass's states live on the host: the encoder hands over its page-locked staging buffer
   * and the caller copies each sequence's state straight in (before) and out (after), one copy
   * each way with no intermediate array. Sequence s's floats are at byte {@code 4·s·stateFloats}.
   */
  public interface HostStates {
    void gather(MemorySegment staging, int sequences);

    void scatter(MemorySegment staging, int sequences);
  }

  /** States kept in device memory, one slot per user. */
  public final class DeviceStates implements AutoCloseable {
    final long pointer;
    final int slots;

    private DeviceStates(int slots) {
      this.slots = slots;
      this.pointer = cuda.malloc(4L * slots * stateFloats);
    }

    public int slots() {
      return slots;
    }

    /** Writes slots [first, first + states.length / stateFloats). */
    public void upload(int first, float[] states) {
      synchronized (CudaEncoder.this) {
        cuda.makeCurrent();
        copyIn(pointer + 4L * first * stateFloats, states, states.length);
        cuda.synchronize(stream);
      }
    }

    /** Reads slots [first, first + out.length / stateFloats). */
    public void download(int first, float[] out) {
      synchronized (CudaEncoder.this) {
        cuda.makeCurrent();
        copyOut(out, pointer + 4L * first * stateFloats, out.length);
      }
    }

    @Override
    public void close() {
      synchronized (CudaEncoder.this) {
        cuda.makeCurrent();
        cuda.free(pointer);
      }
    }
  }

  private final Cuda cuda;
  private final Cublas cublas;
  private final MemorySegment stream;
  private final EncoderWeights w;
  private final int maxRows;
  private final int maxUsers;
  private final int stateFloats;
  private final MemorySegment embedKernel;
  private final MemorySegment layerNormKernel;
  private final MemorySegment biasKernel;
  private final MemorySegment featuresKernel;
  private final MemorySegment scanKernel;
  private final MemorySegment outputKernel;
  private final MemorySegment chunkSumsKernel;
  private final MemorySegment chunkPrefixKernel;
  private final MemorySegment chunkScanKernel;
  private final int maxChunks;
  private final long dChunkInts;
  private final long dSums;
  private final MemorySegment pinnedChunkInts;
  private final List<Long> allocations = new ArrayList<>();
  private final DeviceWeights dw;
  // per-pass buffers, sized for maxRows rows and maxUsers sequences
  private final long dInts;
  private final long dX;
  private final long dNormed;
  private final long dQ;
  private final long dK;
  private final long dV;
  private final long dPhiQ;
  private final long dPhiK;
  private final long dNum;
  private final long dAttended;
  private final long dHidden;
  private final long dUsers;
  private final long dStates;
  private final MemorySegment pinnedInts;
  private final MemorySegment pinnedStates;
  private final MemorySegment pinnedUsers;
  private boolean closed;

  private record DeviceWeights(long items, long index, long gaps, long finalGain, long finalBias,
      List<long[]> layers) {}

  /**
   * Opens the device, cuBLAS and the shipped kernels and uploads the weights.
   *
   * @param maxUsers the most sequences one pass folds (its state staging: maxUsers × state bytes
   *     on the device and page-locked on the host)
   * @throws GpuUnavailableException no driver, no device, no cuBLAS, kernels that do not load,
   *     or a model this encoder does not cover (the message says which)
   */
  public static CudaEncoder open(GpuSettings settings, EncoderWeights weights, int maxUsers,
      Cublas.MathMode mode) throws GpuUnavailableException {
    if (!SUPPORTED_FEATURES.contains(weights.features())) {
      throw new GpuUnavailableException("the GPU encoder is compiled for m ∈ "
          + SUPPORTED_FEATURES + " random features, the model has m = " + weights.features());
    }
    Cuda cuda = Cuda.open(settings);
    try {
      MemorySegment stream = cuda.newStream();
      Cublas cublas = Cublas.open(settings, stream);
      cublas.mathMode(mode);
      Fatbin fatbin;
      try {
        fatbin = Fatbin.shipped();
      } catch (IOException e) {
        throw new GpuUnavailableException("the GPU kernels are missing: " + e.getMessage(), e);
      }
      if (!fatbin.runsOn(cuda.computeCapability())) {
        throw new GpuUnavailableException("the shipped kernels (" + fatbin.entries()
            + ") do not run on " + cuda.describe());
      }
      MemorySegment module = cuda.loadModule(fatbin.image());
      return new CudaEncoder(cuda, cublas, stream, module, weights, settings.maxRows(),
          maxUsers);
    } catch (Cuda.CudaException e) {
      cuda.close();
      throw new GpuUnavailableException("the GPU encoder could not start on " + cuda.describe()
          + ": " + e.getMessage(), e);
    } catch (GpuUnavailableException e) {
      cuda.close();
      throw e;
    }
  }

  private CudaEncoder(Cuda cuda, Cublas cublas, MemorySegment stream,
      MemorySegment module, EncoderWeights weights, int maxRows, int maxUsers) {
    if (maxUsers < 1 || maxUsers > maxRows) {
      throw new IllegalArgumentException("maxUsers must be in [1, maxRows], got " + maxUsers);
    }
    this.cuda = cuda;
    this.cublas = cublas;
    this.stream = stream;
    this.w = weights;
    this.maxRows = maxRows;
    this.maxUsers = maxUsers;
    this.stateFloats = weights.stateFloats();
    embedKernel = cuda.function(module, "embed");
    layerNormKernel = cuda.function(module, "layer_norm");
    biasKernel = cuda.function(module, "bias");
    featuresKernel = cuda.function(module, "features");
    scanKernel = cuda.function(module, "scan_" + weights.features());
    outputKernel = cuda.function(module, "output");
    chunkSumsKernel = cuda.function(module, "chunk_sums_" + weights.features());
    chunkPrefixKernel = cuda.function(module, "chunk_prefix");
    chunkScanKernel = cuda.function(module, "chunk_scan_" + weights.features());
    dw = uploadWeights(weights);
    long r = maxRows;
    int d = weights.dim();
    int hm = weights.heads() * weights.features();
    dInts = alloc(4L * (3 * r + 4L * maxUsers));
    dX = alloc(4L * r * d);
    dNormed = alloc(4L * r * d);
    dQ = alloc(4L * r * d);
    dK = alloc(4L * r * d);
    dV = alloc(4L * r * d);
    dPhiQ = alloc(4L * r * hm);
    dPhiK = alloc(4L * r * hm);
    dNum = alloc(4L * r * weights.heads() * (weights.headDim() + 1));
    dAttended = alloc(4L * r * d);
    dHidden = alloc(4L * r * weights.ffnDim());
    dUsers = alloc(4L * maxUsers * d);
    dStates = alloc(4L * maxUsers * stateFloats);
    pinnedInts = cuda.mallocHost(4L * (3 * r + 4L * maxUsers));
    pinnedStates = cuda.mallocHost(4L * maxUsers * stateFloats);
    pinnedUsers = cuda.mallocHost(4L * maxUsers * d);
    // chunks: every sequence's last one may be short, the rest hold CHUNK rows
    maxChunks = maxUsers + (maxRows + CHUNK - 1) / CHUNK;
    dChunkInts = alloc(4L * (2L * maxChunks + 2L * maxUsers));
    dSums = alloc(4L * maxChunks * weights.heads() * weights.features()
        * (weights.headDim() + 1));
    pinnedChunkInts = cuda.mallocHost(4L * (2L * maxChunks + 2L * maxUsers));
  }

  /** The device, the driver and cuBLAS, for logs and reports. */
  public String describe() {
    return cuda.describe() + ", " + cublas.describe();
  }

  public int maxRows() {
    return maxRows;
  }

  public int maxUsers() {
    return maxUsers;
  }

  public int stateFloats() {
    return stateFloats;
  }

  /** States in device memory for {@link #foldResident}. */
  public synchronized DeviceStates allocateStates(int slots) {
    cuda.makeCurrent();
    return new DeviceStates(slots);
  }

  /**
   * One pass with the states on the host: sequence s folds into {@code states[s·stateFloats ..]}
   * (its slot is ignored: the staging slots are 0 .. n−1), its user vector written to
   * {@code userVectors[s·D ..]}.
   */
  public synchronized void fold(Rows rows, float[] states, float[] userVectors) {
    int n = rows.sequences();
    if (states.length != (long) n * stateFloats) {
      throw new IllegalArgumentException("states must hold " + n + " × " + stateFloats
          + " floats, has " + states.length);
    }
    fold(rows, new HostStates() {
      @Override
      public void gather(MemorySegment staging, int sequences) {
        MemorySegment.copy(states, 0, staging, JAVA_FLOAT, 0, states.length);
      }

      @Override
      public void scatter(MemorySegment staging, int sequences) {
        MemorySegment.copy(staging, JAVA_FLOAT, 0, states, 0, states.length);
      }
    }, userVectors);
  }

  /**
   * One pass with the states on the host, copied by {@code states} straight into and out of the
   * page-locked staging buffer: the service's path. The staging slots are 0 .. n−1 (the rows'
   * slots are ignored); user vectors go to {@code userVectors[s·D ..]}.
   */
  public synchronized void fold(Rows rows, HostStates states, float[] userVectors) {
    check(rows, userVectors);
    int n = rows.sequences();
    int[] slots = new int[n];
    for (int s = 0; s < n; s++) {
      slots[s] = s;
    }
    cuda.makeCurrent();
    cuda.synchronize(stream); // the staging buffer is free
    states.gather(pinnedStates, n);
    long bytes = 4L * n * stateFloats;
    cuda.copyToDevice(dStates, pinnedStates, bytes, stream);
    run(new Rows(rows.item(), rows.indexBucket(), rows.gapBucket(), rows.seqLength(), slots),
        dStates);
    cuda.copyToHost(pinnedStates, dStates, bytes, stream);
    cuda.copyToHost(pinnedUsers, dUsers, 4L * n * w.dim(), stream);
    cuda.synchronize(stream);
    states.scatter(pinnedStates, n);
    MemorySegment.copy(pinnedUsers, JAVA_FLOAT, 0, userVectors, 0, n * w.dim());
  }

  /**
   * One pass on states kept in device memory; user vectors downloaded when {@code userVectors} is
   * not null.
   */
  public synchronized void foldResident(Rows rows, DeviceStates states, float[] userVectors) {
    if (userVectors != null) {
      check(rows, userVectors);
    } else if (rows.rows() > maxRows || rows.sequences() > maxUsers) {
      throw new IllegalArgumentException("a pass holds ≤ " + maxRows + " rows and ≤ " + maxUsers
          + " sequences");
    }
    for (int slot : rows.seqSlot()) {
      if (slot < 0 || slot >= states.slots) {
        throw new IllegalArgumentException("slot " + slot + " outside [0, " + states.slots + ")");
      }
    }
    cuda.makeCurrent();
    run(rows, states.pointer);
    if (userVectors != null) {
      cuda.copyToHost(pinnedUsers, dUsers, 4L * rows.sequences() * w.dim(), stream);
      cuda.synchronize(stream);
      MemorySegment.copy(pinnedUsers, JAVA_FLOAT, 0, userVectors, 0, rows.sequences() * w.dim());
    } else {
      cuda.synchronize(stream);
    }
  }

  private void check(Rows rows, float[] userVectors) {
    if (closed) {
      throw new IllegalStateException("the GPU encoder is closed");
    }
    if (rows.rows() > maxRows || rows.sequences() > maxUsers) {
      throw new IllegalArgumentException("a pass holds ≤ " + maxRows + " rows and ≤ " + maxUsers
          + " sequences, got " + rows.rows() + " and " + rows.sequences());
    }
    if (userVectors.length != (long) rows.sequences() * w.dim()) {
      throw new IllegalArgumentException("userVectors must hold " + rows.sequences() + " × "
          + w.dim() + " floats");
    }
    for (int i = 0; i < rows.rows(); i++) {
      if (rows.item()[i] < 0 || rows.item()[i] >= w.itemCount() || rows.indexBucket()[i] < 0
          || rows.indexBucket()[i] >= 32 || rows.gapBucket()[i] < 0
          || rows.gapBucket()[i] >= 44) {
        throw new IllegalArgumentException("row " + i + ": item, index or gap bucket out of "
            + "range");
      }
    }
  }

  /** The pass itself; everything enqueued on the stream. */
  private void run(Rows rows, long states) {
    int r = rows.rows();
    int n = rows.sequences();
    int d = w.dim();
    int h = w.heads();
    int dh = w.headDim();
    int m = w.features();
    int f = w.ffnDim();
    // ints: item | index bucket | gap bucket (r each) | seqStart | seqLength | seqSlot | lastRow
    MemorySegment ints = pinnedInts;
    MemorySegment.copy(rows.item(), 0, ints, JAVA_INT, 0, r);
    MemorySegment.copy(rows.indexBucket(), 0, ints, JAVA_INT, 4L * r, r);
    MemorySegment.copy(rows.gapBucket(), 0, ints, JAVA_INT, 8L * r, r);
    long seqBase = 12L * r;
    int start = 0;
    for (int s = 0; s < n; s++) {
      ints.setAtIndex(JAVA_INT, 3L * r + s, start);
      start += rows.seqLength()[s];
      ints.setAtIndex(JAVA_INT, 3L * r + 3L * n + s, start - 1);
    }
    MemorySegment.copy(rows.seqLength(), 0, ints, JAVA_INT, seqBase + 4L * n, n);
    MemorySegment.copy(rows.seqSlot(), 0, ints, JAVA_INT, seqBase + 8L * n, n);
    cuda.copyToDevice(dInts, ints, 4L * (3L * r + 4L * n), stream);
    long item = dInts;
    long indexBucket = dInts + 4L * r;
    long gapBucket = dInts + 8L * r;
    long seqStart = dInts + seqBase;
    long seqLength = seqStart + 4L * n;
    long seqSlot = seqStart + 8L * n;
    long lastRow = seqStart + 12L * n;

    int longest = 0;
    for (int length : rows.seqLength()) {
      longest = Math.max(longest, length);
    }
    int chunks = longest > CHUNK ? planChunks(rows) : 0;
    long chunkStart = dChunkInts;
    long chunkLength = dChunkInts + 4L * chunks;
    long seqFirstChunk = dChunkInts + 8L * chunks;
    long seqChunks = seqFirstChunk + 4L * n;

    launch(embedKernel, (long) r * d, BLOCK, a -> a.ptr(item).ptr(indexBucket).ptr(gapBucket)
        .ptr(dw.items()).ptr(dw.index()).ptr(dw.gaps()).ptr(dX).i(d));
    for (int l = 0; l < w.layers().size(); l++) {
      long[] p = dw.layers().get(l);
      EncoderWeights.FeatureConstants fc = w.layers().get(l).features();
      layerNorm(dX, 0, p[0], p[1], dNormed, r);
      cublas.gemm(r, d, d, 1f, dNormed, d, p[2], d, 0f, dQ, d);
      cublas.gemm(r, d, d, 1f, dNormed, d, p[3], d, 0f, dK, d);
      cublas.gemm(r, d, d, 1f, dNormed, d, p[4], d, 0f, dV, d);
      // u = x̃·Wᵀ per (row, head): q as (r·h, dh), Wᵀ (dh, m)
      cublas.gemm(r * h, m, dh, (float) fc.inputScale(), dQ, dh, p[13], m, 0f, dPhiQ, m);
      cublas.gemm(r * h, m, dh, (float) fc.inputScale(), dK, dh, p[13], m, 0f, dPhiK, m);
      features(dPhiQ, dQ, r * h, fc, true);
      features(dPhiK, dK, r * h, fc, false);
      long layerOffset = (long) l * h * m * (dh + 1);
      if (chunks == 0) {
        launch(scanKernel, (long) n * h * (dh + 1), SCAN_BLOCK, a -> a.ptr(dPhiQ).ptr(dPhiK)
            .ptr(dV).ptr(states).ptr(dNum).ptr(seqStart).ptr(seqLength).ptr(seqSlot).i(h).i(m)
            .i(dh).i(stateFloats).i(layerOffset));
      } else {
        launch(chunkSumsKernel, (long) chunks * h * (dh + 1), SCAN_BLOCK, a -> a.ptr(dPhiK)
            .ptr(dV).ptr(dSums).ptr(chunkStart).ptr(chunkLength).i(h).i(m).i(dh));
        launch(chunkPrefixKernel, (long) n * h * m * (dh + 1), BLOCK, a -> a.ptr(dSums)
            .ptr(states).ptr(seqFirstChunk).ptr(seqChunks).ptr(seqSlot).i(h).i(m).i(dh)
            .i(stateFloats).i(layerOffset));
        launch(chunkScanKernel, (long) chunks * h * (dh + 1), SCAN_BLOCK, a -> a.ptr(dPhiQ)
            .ptr(dPhiK).ptr(dV).ptr(dSums).ptr(dNum).ptr(chunkStart).ptr(chunkLength).i(h).i(m)
            .i(dh));
      }
      launch(outputKernel, (long) r * h * dh, BLOCK, a -> a.ptr(dNum).ptr(dAttended).i(h).i(dh)
          .f(w.denominatorEpsilon()));
      cublas.gemm(r, d, d, 1f, dAttended, d, p[5], d, 1f, dX, d);
      bias(dX, p[6], r, d, false);
      layerNorm(dX, 0, p[7], p[8], dNormed, r);
      cublas.gemm(r, f, d, 1f, dNormed, d, p[9], f, 0f, dHidden, f);
      bias(dHidden, p[10], r, f, true);
      cublas.gemm(r, d, f, 1f, dHidden, f, p[11], d, 1f, dX, d);
      bias(dX, p[12], r, d, false);
    }
    layerNorm(dX, lastRow, dw.finalGain(), dw.finalBias(), dUsers, n);
  }

  /**
   * Cuts every sequence into chunks of ≤ {@link #CHUNK} rows and uploads the table: chunkStart,
   * chunkLength (per chunk), seqFirstChunk, seqChunks (per sequence). Returns the chunk count.
   */
  private int planChunks(Rows rows) {
    int n = rows.sequences();
    int chunks = 0;
    for (int length : rows.seqLength()) {
      chunks += (length + CHUNK - 1) / CHUNK;
    }
    MemorySegment t = pinnedChunkInts;
    int c = 0;
    int row = 0;
    for (int s = 0; s < n; s++) {
      int length = rows.seqLength()[s];
      t.setAtIndex(JAVA_INT, 2L * chunks + s, c);
      t.setAtIndex(JAVA_INT, 2L * chunks + n + s, (length + CHUNK - 1) / CHUNK);
      for (int from = 0; from < length; from += CHUNK) {
        t.setAtIndex(JAVA_INT, c, row + from);
        t.setAtIndex(JAVA_INT, (long) chunks + c, Math.min(CHUNK, length - from));
        c++;
      }
      row += length;
    }
    cuda.copyToDevice(dChunkInts, t, 4L * (2L * chunks + 2L * n), stream);
    return chunks;
  }

  private void layerNorm(long in, long rowIndex, long gain, long bias, long out, int rows) {
    launch(layerNormKernel, rows, BLOCK, a -> a.ptr(in).ptr(rowIndex).ptr(gain).ptr(bias)
        .ptr(out).i(w.dim()).f(w.layerNormEpsilon()));
  }

  private void bias(long x, long bias, int rows, int cols, boolean gelu) {
    launch(biasKernel, (long) rows * cols, BLOCK, a -> a.ptr(x).ptr(bias).i(cols).i(gelu ? 1 : 0)
        .f(w.geluC()).f(w.geluA()));
  }

  private void features(long u, long x, int rowHeads, EncoderWeights.FeatureConstants fc,
      boolean query) {
    launch(featuresKernel, rowHeads, BLOCK, a -> a.ptr(u).ptr(x).ptr(u).i(w.features())
        .i(w.headDim()).f(fc.inputScale()).f(fc.outputScale())
        .f(query ? fc.queryEpsilon() : fc.keyEpsilon()).f(fc.keyShift()).i(query ? 1 : 0)
        .i(fc.relu() ? 1 : 0));
  }

  /** A kernel's one struct argument: 8-byte fields after the thread count. */
  static final class Args {
    private final MemorySegment segment;
    private long offset = 8;

    Args(MemorySegment segment, long threads) {
      this.segment = segment;
      segment.set(JAVA_LONG, 0, threads);
    }

    Args ptr(long devicePointer) {
      segment.set(JAVA_LONG, offset, devicePointer);
      offset += 8;
      return this;
    }

    Args i(long value) {
      return ptr(value);
    }

    Args f(double value) {
      segment.set(JAVA_DOUBLE, offset, value);
      offset += 8;
      return this;
    }
  }

  private void launch(MemorySegment kernel, long threads, int block,
      java.util.function.Consumer<Args> fields) {
    if (threads == 0) {
      return;
    }
    long blocks = (threads + block - 1) / block;
    if (blocks > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("too many threads for one launch: " + threads);
    }
    try (Arena a = Arena.ofConfined()) {
      MemorySegment args = a.allocate(8L * 24, 8);
      fields.accept(new Args(args, threads));
      cuda.launch(kernel, (int) blocks, block, stream, args);
    }
  }

  private long alloc(long bytes) {
    long p = cuda.malloc(bytes);
    allocations.add(p);
    return p;
  }

  private long upload(float[] data) {
    long p = alloc(4L * data.length);
    copyIn(p, data, data.length);
    return p;
  }

  /** Host floats → pinned staging → device (synchronous with respect to the caller's data). */
  private void copyIn(long dst, float[] src, int length) {
    long chunk = pinnedStates == null ? 0 : pinnedStates.byteSize() / 4;
    if (chunk == 0) { // weights, before the staging exists: a temporary pinned buffer
      MemorySegment tmp = cuda.mallocHost(4L * length);
      try {
        MemorySegment.copy(src, 0, tmp, JAVA_FLOAT, 0, length);
        cuda.copyToDevice(dst, tmp, 4L * length, stream);
        cuda.synchronize(stream);
      } finally {
        cuda.freeHost(tmp);
      }
      return;
    }
    for (long done = 0; done < length; done += chunk) {
      int count = (int) Math.min(chunk, length - done);
      cuda.synchronize(stream); // the staging buffer is free again
      MemorySegment.copy(src, (int) done, pinnedStates, JAVA_FLOAT, 0, count);
      cuda.copyToDevice(dst + 4 * done, pinnedStates, 4L * count, stream);
    }
  }

  private void copyOut(float[] dst, long src, int length) {
    long chunk = pinnedStates.byteSize() / 4;
    for (long done = 0; done < length; done += chunk) {
      int count = (int) Math.min(chunk, length - done);
      cuda.copyToHost(pinnedStates, src + 4 * done, 4L * count, stream);
      cuda.synchronize(stream);
      MemorySegment.copy(pinnedStates, JAVA_FLOAT, 0, dst, (int) done, count);
    }
  }

  private DeviceWeights uploadWeights(EncoderWeights weights) {
    List<long[]> layers = new ArrayList<>();
    for (EncoderWeights.Layer l : weights.layers()) {
      layers.add(new long[] {upload(l.ln1Gain()), upload(l.ln1Bias()), upload(l.wq()),
          upload(l.wk()), upload(l.wv()), upload(l.wo()), upload(l.bo()), upload(l.ln2Gain()),
          upload(l.ln2Bias()), upload(l.w1()), upload(l.b1()), upload(l.w2()), upload(l.b2()),
          upload(l.projectionTransposed())});
    }
    return new DeviceWeights(upload(weights.items()), upload(weights.index()),
        upload(weights.gaps()), upload(weights.finalGain()), upload(weights.finalBias()),
        List.copyOf(layers));
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    cuda.makeCurrent();
    cuda.synchronize(stream);
    allocations.forEach(cuda::free);
    cuda.freeHost(pinnedInts);
    cuda.freeHost(pinnedStates);
    cuda.freeHost(pinnedUsers);
    cuda.freeHost(pinnedChunkInts);
    cublas.close();
    cuda.close();
  }
}
