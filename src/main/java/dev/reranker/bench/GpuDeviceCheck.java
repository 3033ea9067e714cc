package dev.reranker.bench;

import dev.reranker.attention.FavorState;
import dev.reranker.gpu.Cublas;
import dev.reranker.gpu.Cuda;
import dev.reranker.gpu.CudaEncoder;
import dev.reranker.gpu.EncoderWeights;
import dev.reranker.gpu.GpuSettings;
import dev.reranker.gpu.GpuUnavailableException;
import dev.reranker.model.EncoderBackend;
import dev.reranker.model.EncoderState;
import dev.reranker.model.GpuEncoderBackend;
import dev.reranker.model.IncrementalEncoder;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.model.OrderSignal;
import dev.reranker.model.PlainWeights;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The GPU device check (gpu/device-check.sh runs it on a lent GPU machine, with a jlink'd JDK and
 * no ND4J natives): the GPU encoder against the plain-array CPU reference, and its speed beside
 * the PyTorch anchor measured in the same call.
 * <ol>
 *   <li>fold: U users × E events, one event per user per pass (the service's micro-batches), on
 *   a real artifact and on a model of the default shape: GPU (fp32, then TF32 GEMMs) against
 *   {@link IncrementalEncoder}, max |Δ| of user vectors and max relative |Δ| of [S | z];</li>
 *   <li>cold re-encode: 64 users × 10,000 events from empty states, against the CPU;</li>
 *   <li>fold events/s at B users per batch: states resident on the device, and copied in and out
 *   of page-locked memory every batch, with the copy bound and the device copy rate measured in
 *   the same run;</li>
 *   <li>encode: b histories × T events from empty states, ms per encode;</li>
 *   <li>the anchor's numbers (anchor.json, written by fold_anchor.py in the same call) beside.</li>
 * </ol>
 * {@code --quick}: small sizes, to check the harness itself (against the host emulation).
 * Prints a table, writes JSON ({@code --out}); exit 1 when a correctness check fails or no GPU.
 */
public final class GpuDeviceCheck {

  private final Map<String, Object> json = new LinkedHashMap<>();
  private final List<String> failures = new ArrayList<>();
  private final GpuSettings base;
  private final boolean quick;

  private GpuDeviceCheck(GpuSettings base, boolean quick) {
    this.base = base;
    this.quick = quick;
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> a = new LinkedHashMap<>();
    for (String arg : args) {
      String[] kv = arg.replaceFirst("^--", "").split("=", 2);
      a.put(kv[0], kv.length > 1 ? kv[1] : "true");
    }
    boolean quick = a.containsKey("quick");
    GpuSettings settings = new GpuSettings(a.get("cuda-library"), a.get("cublas-library"), 1, 0);
    GpuDeviceCheck check = new GpuDeviceCheck(settings, quick);
    int rc = check.run(Path.of(a.getOrDefault("model", "src/main/resources/models/demo-performer")),
        Path.of(a.getOrDefault("shape-model", "gpu/models/default-shape")),
        a.containsKey("anchor") ? Path.of(a.get("anchor")) : null,
        a.containsKey("out") ? Path.of(a.get("out")) : null, a.getOrDefault("commit", "unknown"));
    System.exit(rc);
  }

  private int run(Path model, Path shapeModel, Path anchor, Path out, String commit)
      throws Exception {
    long started = System.nanoTime();
    json.put("date", Instant.now().toString());
    json.put("commit", commit);
    json.put("java", System.getProperty("java.version"));
    json.put("cpus", Runtime.getRuntime().availableProcessors());
    json.put("quick", quick);
    try (Cuda cuda = Cuda.open(with(1, 0))) {
      long[] memory = cuda.memoryInfo();
      json.put("device", cuda.describe());
      json.put("device_memory_GB", round(memory[1] / 1e9, 1));
      say("device: %s, %.1f GB", cuda.describe(), memory[1] / 1e9);
    } catch (GpuUnavailableException e) {
      say("FAIL no GPU: %s", e.getMessage());
      json.put("error", e.getMessage());
      write(out);
      return 1;
    }
    PlainWeights real = ModelArtifacts.loadPlain(model);
    PlainWeights shape = ModelArtifacts.loadPlain(shapeModel);
    json.put("models", Map.of("real", real.modelVersion() + " " + describe(real), "default_shape",
        shape.modelVersion() + " " + describe(shape)));
    Map<String, Object> anchorJson = readAnchor(anchor);

    // 1. fold correctness
    int users = quick ? 48 : 16_384;
    int events = quick ? 4 : 200;
    List<Map<String, Object>> fold = new ArrayList<>();
    for (PlainWeights w : List.of(real, shape)) {
      fold.addAll(foldCheck(w, users, events));
    }
    json.put("fold_check", fold);

    // 2. cold re-encode
    int reUsers = quick ? 3 : 64;
    int reEvents = quick ? 300 : 10_000;
    json.put("reencode_check", reencodeCheck(shape, reUsers, reEvents));

    // 3. fold throughput
    List<Integer> batches = quick ? List.of(1, 64) : List.of(1, 64, 1_024, 16_384, 65_536);
    json.put("fold_speed", foldSpeed(shape, batches, anchorJson));

    // 4. encode
    List<Integer> lengths = quick ? List.of(256, 1_024) : List.of(1_024, 4_096, 16_384, 65_536);
    json.put("encode_speed", encodeSpeed(shape, List.of(1, quick ? 4 : 64), lengths,
        anchorJson));

    json.put("failures", failures);
    json.put("total_s", round((System.nanoTime() - started) / 1e9, 1));
    say("");
    say(failures.isEmpty() ? "RESULT all correctness checks passed (%.0f s)"
        : "RESULT FAILED: %s", failures.isEmpty() ? (System.nanoTime() - started) / 1e9
        : failures);
    write(out);
    return failures.isEmpty() ? 0 : 1;
  }

  // ---- 1. fold: GPU = CPU

  /** Random histories: items and increasing timestamps, seeded. */
  private record Histories(int[][] items, long[][] times) {
    static Histories random(int users, int events, int itemCount, long seed) {
      SplittableRandom random = new SplittableRandom(seed);
      int[][] items = new int[users][events];
      long[][] times = new long[users][events];
      for (int u = 0; u < users; u++) {
        long t = 1_700_000_000_000L + random.nextLong(1_000_000);
        for (int e = 0; e < events; e++) {
          items[u][e] = random.nextInt(itemCount);
          t += random.nextLong(1, 86_400_000L);
          times[u][e] = t;
        }
      }
      return new Histories(items, times);
    }
  }

  /**
   * U users × E events, one event per user per pass on states kept on the device (the kernels'
   * check at full size), and a smaller run through {@link GpuEncoderBackend} with its per-pass
   * transfers (the service's path), each against the CPU reference.
   */
  private List<Map<String, Object>> foldCheck(PlainWeights w, int users, int events)
      throws Exception {
    Histories h = Histories.random(users, events, w.config().items(), 17);
    long cpuStart = System.nanoTime();
    EncoderState[] cpu = cpuFold(w, h.items(), h.times());
    double cpuSeconds = (System.nanoTime() - cpuStart) / 1e9;
    List<Map<String, Object>> out = new ArrayList<>();
    EncoderWeights ew = GpuEncoderBackend.encoderWeights(w);
    for (Cublas.MathMode mode : Cublas.MathMode.values()) {
      EncoderState[] gpu = new EncoderState[users];
      long start = System.nanoTime();
      try (CudaEncoder encoder = CudaEncoder.open(with(users, 0), ew, users, mode);
          CudaEncoder.DeviceStates states = encoder.allocateStates(users)) {
        states.upload(0, new float[users * ew.stateFloats()]);
        float[] vectors = new float[users * ew.dim()];
        int[] ones = new int[users];
        int[] slots = new int[users];
        java.util.Arrays.fill(ones, 1);
        for (int u = 0; u < users; u++) {
          slots[u] = u;
        }
        for (int e = 0; e < events; e++) {
          int[] item = new int[users];
          int[] index = new int[users];
          int[] gap = new int[users];
          for (int u = 0; u < users; u++) {
            item[u] = h.items()[u][e];
            index[u] = OrderSignal.indexBucket(e);
            gap[u] = OrderSignal.gapBucket(e == 0 ? OrderSignal.NO_PREVIOUS : h.times()[u][e - 1],
                h.times()[u][e]);
          }
          encoder.foldResident(new CudaEncoder.Rows(item, index, gap, ones, slots), states,
              e == events - 1 ? vectors : null);
        }
        float[] all = new float[users * ew.stateFloats()];
        states.download(0, all);
        for (int u = 0; u < users; u++) {
          gpu[u] = GpuEncoderBackend.stateOf(w, all, u * ew.stateFloats(), java.util.Arrays
              .copyOfRange(vectors, u * ew.dim(), (u + 1) * ew.dim()), events,
              h.times()[u][events - 1]);
        }
      }
      double gpuSeconds = (System.nanoTime() - start) / 1e9;
      out.add(result(w, "resident passes", mode, users, events, compare(cpu, gpu), cpuSeconds,
          gpuSeconds));
    }
    // the service's path: GpuEncoderBackend, states to the device and back every pass
    int small = Math.min(users, 1_024);
    int smallEvents = Math.min(events, 20);
    Histories hs = Histories.random(small, smallEvents, w.config().items(), 19);
    EncoderState[] cpuSmall = cpuFold(w, hs.items(), hs.times());
    IncrementalEncoder factory = new IncrementalEncoder(w);
    EncoderState[] gpu = new EncoderState[small];
    for (int u = 0; u < small; u++) {
      gpu[u] = factory.newState();
    }
    long start = System.nanoTime();
    try (GpuEncoderBackend backend = GpuEncoderBackend.open(w, with(small, 0), small,
        Cublas.MathMode.FP32)) {
      for (int e = 0; e < smallEvents; e++) {
        List<EncoderBackend.Work> work = new ArrayList<>(small);
        for (int u = 0; u < small; u++) {
          work.add(new EncoderBackend.Work(gpu[u], new int[] {hs.items()[u][e]},
              new long[] {hs.times()[u][e]}, 0, OrderSignal.NO_PREVIOUS));
        }
        backend.fold(work);
      }
    }
    out.add(result(w, "backend, transfers", Cublas.MathMode.FP32, small, smallEvents,
        compare(cpuSmall, gpu), Double.NaN, (System.nanoTime() - start) / 1e9));
    return out;
  }

  private Map<String, Object> result(PlainWeights w, String path, Cublas.MathMode mode, int users,
      int events, double[] error, double cpuSeconds, double gpuSeconds) {
    boolean fp32 = mode == Cublas.MathMode.FP32;
    boolean ok = error[0] <= 1e-4 && error[1] <= 1e-4;
    if (fp32 && !ok) {
      failures.add("fold " + w.modelVersion() + " " + path + ": " + error[0] + " / " + error[1]);
    }
    say("%s fold %s, %s, %s, %,d users × %d events: max |Δ user vector| %.2e, max |Δ state|/|S| "
        + "%.2e (CPU %.1f s, GPU %.2f s)", fp32 ? (ok ? "PASS" : "FAIL") : "INFO",
        w.modelVersion(), path, mode, users, events, error[0], error[1], cpuSeconds, gpuSeconds);
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("model", w.modelVersion());
    r.put("path", path);
    r.put("math", mode.name().toLowerCase(Locale.ROOT));
    r.put("users", users);
    r.put("events_per_user", events);
    r.put("max_abs_user_vector", error[0]);
    r.put("max_state_error_relative_to_state_scale", error[1]);
    r.put("cpu_s", round(cpuSeconds, 2));
    r.put("gpu_s", round(gpuSeconds, 3));
    return r;
  }

  private static EncoderState[] cpuFold(PlainWeights w, int[][] items, long[][] times) {
    EncoderState[] out = new EncoderState[items.length];
    ThreadLocal<IncrementalEncoder> encoders = ThreadLocal.withInitial(
        () -> new IncrementalEncoder(w));
    IntStream.range(0, items.length).parallel().forEach(u -> {
      IncrementalEncoder encoder = encoders.get();
      EncoderState s = encoder.newState();
      for (int e = 0; e < items[u].length; e++) {
        encoder.fold(s, items[u][e], times[u][e]);
      }
      out[u] = s;
    });
    return out;
  }

  /**
   * {max |Δ| of user vectors, max over users and layers of max |Δ| / max(1, max |S|) of the
   * state}: the state error relative to the state's own scale (normwise), since S sums φ(k)·v
   * terms of both signs and an entry that nearly cancels carries the rounding of its large terms.
   */
  private static double[] compare(EncoderState[] cpu, EncoderState[] gpu) {
    double user = 0;
    double state = 0;
    for (int u = 0; u < cpu.length; u++) {
      if (cpu[u].position() != gpu[u].position()) {
        return new double[] {Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY};
      }
      float[] a = cpu[u].userVector();
      float[] b = gpu[u].userVector();
      for (int j = 0; j < a.length; j++) {
        user = Math.max(user, Float.isFinite(b[j]) ? Math.abs(a[j] - b[j])
            : Double.POSITIVE_INFINITY);
      }
      for (int l = 0; l < cpu[u].layers(); l++) {
        FavorState x = (FavorState) cpu[u].layer(l);
        FavorState y = (FavorState) gpu[u].layer(l);
        float[] sx = new float[x.size()];
        float[] sy = new float[y.size()];
        x.copyTo(sx, 0);
        y.copyTo(sy, 0);
        double scale = 1;
        double diff = 0;
        for (int i = 0; i < sx.length; i++) {
          scale = Math.max(scale, Math.abs(sx[i]));
          diff = Math.max(diff, Float.isFinite(sy[i]) ? Math.abs(sx[i] - sy[i])
              : Double.POSITIVE_INFINITY);
        }
        state = Math.max(state, diff / scale);
      }
    }
    return new double[] {user, state};
  }

  // ---- 2. cold re-encode

  private Map<String, Object> reencodeCheck(PlainWeights w, int users, int events)
      throws Exception {
    SplittableRandom random = new SplittableRandom(23);
    int[][] items = new int[users][events];
    long[][] times = new long[users][events];
    for (int u = 0; u < users; u++) {
      long t = 1_600_000_000_000L;
      for (int e = 0; e < events; e++) {
        items[u][e] = random.nextInt(w.config().items());
        t += random.nextLong(1, 3_600_000L);
        times[u][e] = t;
      }
    }
    long cpuStart = System.nanoTime();
    EncoderState[] cpu = cpuFold(w, items, times);
    double cpuSeconds = (System.nanoTime() - cpuStart) / 1e9;
    IncrementalEncoder factory = new IncrementalEncoder(w);
    EncoderState[] gpu = new EncoderState[users];
    List<EncoderBackend.Work> work = new ArrayList<>();
    for (int u = 0; u < users; u++) {
      gpu[u] = factory.newState();
      work.add(new EncoderBackend.Work(gpu[u], items[u], times[u], 0, OrderSignal.NO_PREVIOUS));
    }
    double gpuSeconds;
    try (GpuEncoderBackend backend = GpuEncoderBackend.open(w, with(users * events, 0), users,
        Cublas.MathMode.FP32)) {
      long start = System.nanoTime();
      backend.fold(work);
      gpuSeconds = (System.nanoTime() - start) / 1e9;
    }
    double[] error = compare(cpu, gpu);
    boolean ok = error[0] <= 1e-4 && error[1] <= 1e-4;
    if (!ok) {
      failures.add("re-encode: " + error[0] + " / " + error[1]);
    }
    say("%s cold re-encode %d users × %,d events: max |Δ user vector| %.2e, max |Δ state|/|S| "
        + "%.2e (CPU %.2f s, GPU %.3f s incl. first-pass set-up)", ok ? "PASS" : "FAIL", users,
        events, error[0], error[1], cpuSeconds, gpuSeconds);
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("users", users);
    r.put("events_per_user", events);
    r.put("max_abs_user_vector", error[0]);
    r.put("max_state_error_relative_to_state_scale", error[1]);
    r.put("cpu_s", round(cpuSeconds, 3));
    r.put("gpu_s", round(gpuSeconds, 4));
    return r;
  }

  // ---- 3. fold speed

  private List<Map<String, Object>> foldSpeed(PlainWeights w, List<Integer> batches,
      Map<String, Object> anchor) throws Exception {
    int maxB = batches.stream().mapToInt(Integer::intValue).max().orElse(1);
    EncoderWeights ew = GpuEncoderBackend.encoderWeights(w);
    long stateBytes = 4L * ew.stateFloats();
    List<Map<String, Object>> out = new ArrayList<>();
    say("");
    say("%-8s %14s %14s %10s %14s %12s %14s %14s", "B", "resident ev/s", "transfer ev/s",
        "copy-bound", "of bound", "of roofline", "anchor res.", "anchor pinned");
    try (CudaEncoder encoder = CudaEncoder.open(with(maxB, 0), ew, maxB, Cublas.MathMode.FP32);
        CudaEncoder.DeviceStates resident = encoder.allocateStates(maxB)) {
      double d2d = deviceCopyRate(encoder, resident, stateBytes * maxB);
      json.put("device_copy_GBps_rw", round(d2d / 1e9, 1));
      double roofline = d2d / (2.0 * stateBytes);
      json.put("fold_roofline_events_per_s", Math.round(roofline));
      resident.upload(0, new float[(int) Math.min((long) maxB * ew.stateFloats(),
          Integer.MAX_VALUE - 8)]);
      SplittableRandom random = new SplittableRandom(3);
      for (int b : batches) {
        CudaEncoder.Rows rows = oneEventRows(b, ew.itemCount(), random);
        double residentRate = rate(b, () -> encoder.foldResident(rows, resident, null));
        float[][] perUser = new float[b][ew.stateFloats()]; // as the cache holds them: per user
        float[] users = new float[b * ew.dim()];
        CudaEncoder.HostStates host = new CudaEncoder.HostStates() {
          @Override
          public void gather(MemorySegment staging, int sequences) {
            IntStream.range(0, sequences).parallel().forEach(u -> MemorySegment.copy(
                perUser[u], 0, staging, java.lang.foreign.ValueLayout.JAVA_FLOAT,
                u * stateBytes, perUser[u].length));
          }

          @Override
          public void scatter(MemorySegment staging, int sequences) {
            IntStream.range(0, sequences).parallel().forEach(u -> MemorySegment.copy(staging,
                java.lang.foreign.ValueLayout.JAVA_FLOAT, u * stateBytes, perUser[u], 0,
                perUser[u].length));
          }
        };
        double transferRate = rate(b, () -> encoder.fold(rows, host, users));
        double copyBound = copyBound(b, stateBytes);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("B", b);
        r.put("resident_events_per_s", Math.round(residentRate));
        r.put("transfer_events_per_s", Math.round(transferRate));
        r.put("pinned_copy_bound_events_per_s", Math.round(copyBound));
        r.put("transfer_fraction_of_copy_bound", round(transferRate / copyBound, 3));
        r.put("resident_fraction_of_roofline", round(residentRate / roofline, 3));
        Object ar = anchorFold(anchor, "cuda_resident_fp32", b);
        Object ap = anchorFold(anchor, "gpu_pinned_h2d_d2h_fp32", b);
        r.put("anchor_resident_events_per_s", ar);
        r.put("anchor_pinned_events_per_s", ap);
        out.add(r);
        say("%-8d %,14.0f %,14.0f %,10.0f %13.1f%% %11.1f%% %14s %14s", b, residentRate,
            transferRate, copyBound, 100 * transferRate / copyBound, 100 * residentRate
                / roofline, ar == null ? "-" : String.format("%,.0f", ((Number) ar)
                .doubleValue()), ap == null ? "-" : String.format("%,.0f", ((Number) ap)
                .doubleValue()));
      }
    }
    return out;
  }

  private static CudaEncoder.Rows oneEventRows(int b, int items, SplittableRandom random) {
    int[] item = new int[b];
    int[] index = new int[b];
    int[] gap = new int[b];
    int[] lengths = new int[b];
    int[] slots = new int[b];
    for (int u = 0; u < b; u++) {
      item[u] = random.nextInt(items);
      index[u] = OrderSignal.indexBucket(100 + u % 5_000);
      gap[u] = OrderSignal.gapBucket(0, 1_000L * (1 + u % 100_000));
      lengths[u] = 1;
      slots[u] = u;
    }
    return new CudaEncoder.Rows(item, index, gap, lengths, slots);
  }

  /** Events per second of {@code pass} (b events each): ≥ 3 warm-ups, then ≥ 0.5 s timed. */
  private double rate(int b, Runnable pass) {
    for (int i = 0; i < 3; i++) {
      pass.run();
    }
    long budget = quick ? 50_000_000L : 500_000_000L;
    long start = System.nanoTime();
    int n = 0;
    do {
      pass.run();
      n++;
    } while (System.nanoTime() - start < budget || n < 5);
    return (double) b * n / ((System.nanoTime() - start) / 1e9);
  }

  /**
   * The pinned-copy bound: B states copied from page-locked host memory to the device and back,
   * nothing else (the link's rate, measured in this run), as events per second.
   */
  private double copyBound(int b, long stateBytes) {
    long bytes = b * stateBytes;
    try (Cuda cuda = Cuda.open(with(1, 0))) {
      MemorySegment stream = cuda.newStream();
      MemorySegment host = cuda.mallocHost(bytes);
      long device = cuda.malloc(bytes);
      try {
        return rate(b, () -> {
          cuda.copyToDevice(device, host, bytes, stream);
          cuda.copyToHost(host, device, bytes, stream);
          cuda.synchronize(stream);
        });
      } finally {
        cuda.free(device);
        cuda.freeHost(host);
      }
    } catch (GpuUnavailableException e) {
      return Double.NaN;
    }
  }

  /** Device-to-device copy rate, bytes read + written per second. */
  private double deviceCopyRate(CudaEncoder encoder, CudaEncoder.DeviceStates states,
      long bytes) {
    long half = bytes / 2 / 256 * 256;
    if (half == 0) {
      return Double.NaN;
    }
    try (Cuda cuda = Cuda.open(with(1, 0))) {
      MemorySegment stream = cuda.newStream();
      long src = cuda.malloc(half);
      long dst = cuda.malloc(half);
      try {
        for (int i = 0; i < 3; i++) {
          cuda.copyOnDevice(dst, src, half, stream);
        }
        cuda.synchronize(stream);
        int n = quick ? 3 : 20;
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
          cuda.copyOnDevice(dst, src, half, stream);
        }
        cuda.synchronize(stream);
        return 2.0 * half * n / ((System.nanoTime() - start) / 1e9);
      } finally {
        cuda.free(src);
        cuda.free(dst);
      }
    } catch (GpuUnavailableException e) {
      return Double.NaN;
    }
  }

  // ---- 4. encode speed

  private List<Map<String, Object>> encodeSpeed(PlainWeights w, List<Integer> batches,
      List<Integer> lengths, Map<String, Object> anchor) throws Exception {
    EncoderWeights ew = GpuEncoderBackend.encoderWeights(w);
    int maxBatch = batches.stream().mapToInt(Integer::intValue).max().orElse(1);
    int maxRows = maxBatch * lengths.stream().mapToInt(Integer::intValue).max().orElse(1);
    List<Map<String, Object>> out = new ArrayList<>();
    say("");
    say("%-6s %-8s %12s %14s %16s", "batch", "T", "GPU ms", "events/s", "anchor FAVOR+ ms");
    try (CudaEncoder encoder = CudaEncoder.open(with(maxRows, 0), ew, maxBatch,
        Cublas.MathMode.FP32); CudaEncoder.DeviceStates states = encoder.allocateStates(
            maxBatch)) {
      SplittableRandom random = new SplittableRandom(5);
      float[] zeros = new float[maxBatch * ew.stateFloats()];
      for (int b : batches) {
        for (int t : lengths) {
          int[] item = new int[b * t];
          int[] index = new int[b * t];
          int[] gap = new int[b * t];
          int[] lengthsOf = new int[b];
          int[] slots = new int[b];
          for (int u = 0; u < b; u++) {
            lengthsOf[u] = t;
            slots[u] = u;
            for (int e = 0; e < t; e++) {
              item[u * t + e] = random.nextInt(ew.itemCount());
              index[u * t + e] = OrderSignal.indexBucket(e);
              gap[u * t + e] = e == 0 ? 0 : OrderSignal.gapBucket(0, 60_000L);
            }
          }
          CudaEncoder.Rows rows = new CudaEncoder.Rows(item, index, gap, lengthsOf, slots);
          Runnable encode = () -> {
            states.upload(0, zeros); // from empty states every time
            encoder.foldResident(rows, states, null);
          };
          double perSecond = rate(1, encode);
          double ms = 1000 / perSecond;
          Object a = anchorEncode(anchor, b, t);
          Map<String, Object> r = new LinkedHashMap<>();
          r.put("batch", b);
          r.put("T", t);
          r.put("gpu_ms", round(ms, 3));
          r.put("events_per_s", Math.round(b * t * perSecond));
          r.put("anchor_favor_full_encode_ms", a);
          out.add(r);
          say("%-6d %-8d %12.3f %,14.0f %16s", b, t, ms, b * t * perSecond, a == null ? "-"
              : a.toString());
        }
      }
    }
    return out;
  }

  // ---- the anchor

  @SuppressWarnings("unchecked")
  private static Map<String, Object> readAnchor(Path anchor) {
    if (anchor == null || !Files.exists(anchor)) {
      say("anchor: %s", anchor == null ? "not given" : anchor + " not found");
      return Map.of();
    }
    try {
      ObjectMapper mapper = JsonMapper.builder().build();
      JsonNode node = mapper.readTree(anchor.toFile());
      say("anchor: %s", node.path("meta").toString());
      return mapper.convertValue(node, Map.class);
    } catch (RuntimeException e) {
      say("anchor: unreadable (%s)", e.getMessage());
      return Map.of();
    }
  }

  @SuppressWarnings("unchecked")
  private static Object anchorFold(Map<String, Object> anchor, String mode, int b) {
    for (Object o : (List<Object>) anchor.getOrDefault("fold", List.of())) {
      Map<String, Object> r = (Map<String, Object>) o;
      if (mode.equals(r.get("mode")) && Integer.valueOf(b).equals(r.get("B"))) {
        return r.get("events_per_s");
      }
    }
    return null;
  }

  @SuppressWarnings("unchecked")
  private static Object anchorEncode(Map<String, Object> anchor, int batch, int t) {
    for (Object o : (List<Object>) anchor.getOrDefault("encode", List.of())) {
      Map<String, Object> r = (Map<String, Object>) o;
      if (Integer.valueOf(batch).equals(r.get("batch")) && Integer.valueOf(t).equals(r.get("T"))) {
        return r.get("favor_full_encode_ms");
      }
    }
    return null;
  }

  // ---- helpers

  private GpuSettings with(int maxRows, int device) {
    return new GpuSettings(base.cudaLibrary(), base.cublasLibrary(), Math.max(1, maxRows),
        device);
  }

  private static String describe(PlainWeights w) {
    var c = w.config();
    return "(d " + c.dim() + ", layers " + c.layers() + ", heads " + c.heads() + ", m "
        + c.features() + ", FFN " + c.ffnDim() + ", items " + c.items() + ")";
  }

  private void write(Path out) throws Exception {
    if (out == null) {
      return;
    }
    ObjectMapper mapper = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
    Files.writeString(out, mapper.writeValueAsString(json) + "\n");
    say("wrote %s", out);
  }

  private static double round(double x, int digits) {
    if (!Double.isFinite(x)) {
      return x;
    }
    double f = Math.pow(10, digits);
    return Math.round(x * f) / f;
  }

  private static void say(String format, Object... args) {
    System.out.println(String.format(Locale.ROOT, format, args));
    System.out.flush();
  }
}
