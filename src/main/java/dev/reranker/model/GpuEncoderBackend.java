package dev.reranker.model;

import dev.reranker.attention.FavorState;
import dev.reranker.attention.FavorStepKernel;
import dev.reranker.attention.FeatureMap;
import dev.reranker.gpu.Cublas;
import dev.reranker.gpu.CudaEncoder;
import dev.reranker.gpu.EncoderWeights;
import dev.reranker.gpu.GpuSettings;
import dev.reranker.gpu.GpuUnavailableException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The performer's batched work on a CUDA GPU ({@link CudaEncoder}): the users' [S | z] states go
 * to the device and come back once per pass, their new events are folded there. Works of any
 * length: a pass holds up to {@link CudaEncoder#maxRows()} event rows and
 * {@link CudaEncoder#maxUsers()} users; a longer history (a cold re-encode) continues in the next
 * pass from the state the previous one left. FAVOR+ models only: the softmax baseline stays on
 * the CPU ({@link EncoderBackends} says so in its log line).
 */
public final class GpuEncoderBackend implements EncoderBackend {

  private final CudaEncoder encoder;
  private final String modelVersion;
  private final int dim;
  private final int layers;

  private GpuEncoderBackend(CudaEncoder encoder, String modelVersion, int dim, int layers) {
    this.encoder = encoder;
    this.modelVersion = modelVersion;
    this.dim = dim;
    this.layers = layers;
  }

  /**
   * Opens the GPU encoder for a FAVOR+ model.
   *
   * @throws GpuUnavailableException no usable GPU, or a model it does not cover (the message says
   *     which)
   */
  public static GpuEncoderBackend open(PlainWeights weights, GpuSettings settings, int maxUsers,
      Cublas.MathMode mode) throws GpuUnavailableException {
    if (weights.config.arm() != Arm.PERFORMER) {
      throw new GpuUnavailableException("the GPU encoder runs FAVOR+ models; "
          + weights.modelVersion + " is the softmax baseline");
    }
    return new GpuEncoderBackend(CudaEncoder.open(settings, encoderWeights(weights),
        Math.min(maxUsers, settings.maxRows()), mode), weights.modelVersion, weights.config.dim(),
        weights.config.layers());
  }

  /** The model's weights in the GPU encoder's form. */
  public static EncoderWeights encoderWeights(PlainWeights p) {
    ModelConfig c = p.config;
    List<EncoderWeights.Layer> out = new ArrayList<>();
    for (PlainWeights.Layer l : p.layers) {
      FeatureMap map = l.featureMap();
      FeatureMap.Constants k = map.constants();
      float[] w = map.projection().weights(); // (m, dh)
      int m = map.features();
      int dh = map.inputDim();
      float[] wt = new float[w.length];
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < dh; j++) {
          wt[j * m + i] = w[i * dh + j];
        }
      }
      out.add(new EncoderWeights.Layer(l.ln1Gain(), l.ln1Bias(), l.wq(), l.wk(), l.wv(), l.wo(),
          l.bo(), l.ln2Gain(), l.ln2Bias(), l.w1(), l.b1(), l.w2(), l.b2(), wt,
          new EncoderWeights.FeatureConstants(k.kernel() == FeatureMap.Kernel.RELU, k.inputScale(),
              k.outputScale(), k.queryEpsilon(), k.keyEpsilon(), k.keyShift())));
    }
    return new EncoderWeights(c.dim(), c.heads(), c.features(), c.ffnDim(), c.items(), p.items,
        p.index, p.gaps, out, p.finalGain, p.finalBias, Ops.LAYER_NORM_EPSILON, Ops.GELU_C,
        Ops.GELU_A, FavorStepKernel.DENOMINATOR_EPSILON);
  }

  /**
   * A state from the GPU encoder's layout: [S | z] of every layer from {@code states[offset ..]},
   * the user vector, the position and the last timestamp (for checks that keep states on the
   * device).
   */
  public static EncoderState stateOf(PlainWeights weights, float[] states, int offset,
      float[] userVector, long position, long lastTimestamp) {
    EncoderState s = new IncrementalEncoder(weights).newState();
    int at = offset;
    for (int l = 0; l < s.layers(); l++) {
      FavorState f = (FavorState) s.layer(l);
      f.copyFrom(states, at, position);
      at += f.size();
    }
    s.replace(s.layersView(), userVector.clone(), position, lastTimestamp);
    return s;
  }

  @Override
  public String name() {
    return "gpu";
  }

  @Override
  public String device() {
    return encoder.describe();
  }

  public CudaEncoder encoder() {
    return encoder;
  }

  /** A segment of one user's work that one pass folds: events [from, to). */
  private record Segment(Work work, int from, int to) {}

  @Override
  public void fold(List<Work> work) {
    for (Work w : work) {
      if (!w.state().modelVersion().equals(modelVersion)) {
        throw new IllegalArgumentException("state of model " + w.state().modelVersion()
            + " given to the GPU backend of " + modelVersion);
      }
    }
    List<Segment> pass = new ArrayList<>();
    int rows = 0;
    for (Work w : work) {
      int length = w.items().length;
      int from = 0;
      while (from < length) {
        int space = encoder.maxRows() - rows;
        if (pass.size() == encoder.maxUsers() || space == 0
            || length - from > space && !pass.isEmpty()) { // a long window starts a pass
          run(pass);
          pass.clear();
          rows = 0;
          space = encoder.maxRows();
        }
        int to = from + Math.min(length - from, space);
        pass.add(new Segment(w, from, to));
        rows += to - from;
        if (to < length) { // the rest continues from the state this pass leaves
          run(pass);
          pass.clear();
          rows = 0;
        }
        from = to;
      }
    }
    if (!pass.isEmpty()) {
      run(pass);
    }
  }

  private void run(List<Segment> segments) {
    int n = segments.size();
    int rows = segments.stream().mapToInt(s -> s.to() - s.from()).sum();
    int[] item = new int[rows];
    int[] index = new int[rows];
    int[] gap = new int[rows];
    int[] lengths = new int[n];
    int[] slots = new int[n];
    long stateBytes = 4L * encoder.stateFloats();
    int r = 0;
    for (int s = 0; s < n; s++) {
      Segment seg = segments.get(s);
      EncoderState state = seg.work().state();
      long position = state.position();
      long previous = position == 0 ? OrderSignal.NO_PREVIOUS : state.lastTimestamp();
      for (int i = seg.from(); i < seg.to(); i++) {
        long ts = seg.work().timestamps()[i];
        item[r] = seg.work().items()[i];
        index[r] = OrderSignal.indexBucket(position + i - seg.from());
        gap[r] = OrderSignal.gapBucket(previous, ts);
        previous = ts;
        r++;
      }
      lengths[s] = seg.to() - seg.from();
      slots[s] = s;
    }
    float[] users = new float[n * dim];
    encoder.fold(new CudaEncoder.Rows(item, index, gap, lengths, slots),
        new CudaEncoder.HostStates() {
          @Override
          public void gather(MemorySegment staging, int sequences) {
            parallel(sequences).forEach(s -> {
              long at = s * stateBytes;
              EncoderState state = segments.get(s).work().state();
              for (int l = 0; l < layers; l++) {
                FavorState f = (FavorState) state.layer(l);
                f.copyTo(staging, at);
                at += 4L * f.size();
              }
            });
          }

          @Override
          public void scatter(MemorySegment staging, int sequences) {
            parallel(sequences).forEach(s -> {
              long at = s * stateBytes;
              Segment seg = segments.get(s);
              EncoderState state = seg.work().state();
              int count = seg.to() - seg.from();
              for (int l = 0; l < layers; l++) {
                FavorState f = (FavorState) state.layer(l);
                f.copyFrom(staging, at, f.position() + count);
                at += 4L * f.size();
              }
            });
          }
        }, users);
    for (int s = 0; s < n; s++) {
      Segment seg = segments.get(s);
      EncoderState state = seg.work().state();
      int count = seg.to() - seg.from();
      state.replace(state.layersView(), java.util.Arrays.copyOfRange(users, s * dim,
          (s + 1) * dim), state.position() + count, seg.work().timestamps()[seg.to() - 1]);
    }
  }

  /**
   * The users of a pass, in parallel when there are enough of them for the copies to outweigh
   * the fork (the states of 1,024 users are 35 MB for the default model).
   */
  private static java.util.stream.IntStream parallel(int sequences) {
    java.util.stream.IntStream all = java.util.stream.IntStream.range(0, sequences);
    return sequences >= PARALLEL_COPY_USERS ? all.parallel() : all;
  }

  private static final int PARALLEL_COPY_USERS = 256;

  @Override
  public void close() {
    encoder.close();
  }
}
