package dev.reranker.attention;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The FAVOR+ prefix state of one attention layer for one user: per head S = Σ φ(k) vᵀ (m × d_v) and
 * z = Σ φ(k) (m), stored together as S' = [S | z] (m × (d_v+1)), the layout of
 * {@link CausalLinearAttention}. Its size is fixed by (heads, m, d_v) whatever the history length:
 * folding event 100,001 costs what folding event 101 costs.
 *
 * <p>float32 storage. Mutable (folded in place by {@link FavorStepKernel}); not thread-safe.
 */
public final class FavorState implements AttentionState {

  private static final int FORMAT_VERSION = 1;

  private final int heads;
  private final int features; // m
  private final int valueDim; // d_v
  private final float[] data; // (head, feature, valueDim + 1): [S | z]
  private long position;

  /** An empty state: no events. */
  public FavorState(int heads, int features, int valueDim) {
    this(heads, features, valueDim,
        new float[Math.multiplyExact(Math.multiplyExact(Checks.positive("heads", heads),
            Checks.positive("features (m)", features)), Checks.positive("valueDim", valueDim) + 1)],
        0);
  }

  private FavorState(int heads, int features, int valueDim, float[] data, long position) {
    this.heads = heads;
    this.features = features;
    this.valueDim = valueDim;
    this.data = data;
    this.position = position;
  }

  /**
   * A state from a batched encode's final S' (see {@link CausalLinearAttention.Forward#finalState()}).
   *
   * @param state (heads, m, d_v+1), one sequence's heads stacked on the first axis
   * @param position the number of events it sums
   */
  public static FavorState fromArray(INDArray state, long position) {
    Checks.rank3("state", state, -1, -1, -1);
    if (position < 0) {
      throw new IllegalArgumentException("position must be ≥ 0, got " + position);
    }
    if (state.size(2) < 2) {
      throw new IllegalArgumentException("state must be (heads, m, d_v+1) with d_v ≥ 1, got "
          + Arrays.toString(state.shape()));
    }
    float[] data = Floats.toFloats(state);
    return new FavorState((int) state.size(0), (int) state.size(1), (int) state.size(2) - 1, data,
        position);
  }

  /** S' as a new (heads, m, d_v+1) array: the initial state for a batched encode of later events. */
  public INDArray toArray(DataType type) {
    INDArray a = Floats.toArray(data, heads, features, valueDim + 1);
    return type == DataType.FLOAT ? a : a.castTo(type);
  }

  @Override
  public long position() {
    return position;
  }

  /** 4 bytes per float of S and z, plus 8 for the position; independent of the history length. */
  @Override
  public long byteSize() {
    return 4L * data.length + Long.BYTES;
  }

  public int heads() {
    return heads;
  }

  public int features() {
    return features;
  }

  public int valueDim() {
    return valueDim;
  }

  /** S[head][feature][j]. */
  public float s(int head, int feature, int j) {
    return data[(head * features + feature) * (valueDim + 1) + j];
  }

  /** z[head][feature]. */
  public float z(int head, int feature) {
    return data[(head * features + feature) * (valueDim + 1) + valueDim];
  }

  /** The backing array, (head, feature, d_v+1); for the step kernel. */
  float[] data() {
    return data;
  }

  void advance() {
    position++;
  }

  @Override
  public float readAhead() {
    float sum = 0;
    for (int i = 0; i < data.length; i += FLOATS_PER_CACHE_LINE) {
      sum += data[i];
    }
    return sum;
  }

  /** 64-byte lines, the x86-64 and Arm server cores' (a wrong guess costs speed, not results). */
  static final int FLOATS_PER_CACHE_LINE = 16;

  /** Floats in [S | z]: heads·m·(d_v+1). */
  public int size() {
    return data.length;
  }

  /** Copies [S | z] into {@code dst} at {@code offset} (bulk transfers of many users' states). */
  public void copyTo(float[] dst, int offset) {
    System.arraycopy(data, 0, dst, offset, data.length);
  }

  /** Overwrites [S | z] from {@code src} at {@code offset} and sets the position. */
  public void copyFrom(float[] src, int offset, long newPosition) {
    if (newPosition < 0) {
      throw new IllegalArgumentException("position must be ≥ 0, got " + newPosition);
    }
    System.arraycopy(src, offset, data, 0, data.length);
    position = newPosition;
  }

  /**
   * Copies [S | z] into native memory at {@code byteOffset} (a GPU's page-locked staging buffer:
   * one copy, no intermediate array).
   */
  public void copyTo(java.lang.foreign.MemorySegment dst, long byteOffset) {
    java.lang.foreign.MemorySegment.copy(data, 0, dst, java.lang.foreign.ValueLayout.JAVA_FLOAT,
        byteOffset, data.length);
  }

  /** Overwrites [S | z] from native memory at {@code byteOffset} and sets the position. */
  public void copyFrom(java.lang.foreign.MemorySegment src, long byteOffset, long newPosition) {
    if (newPosition < 0) {
      throw new IllegalArgumentException("position must be ≥ 0, got " + newPosition);
    }
    java.lang.foreign.MemorySegment.copy(src, java.lang.foreign.ValueLayout.JAVA_FLOAT,
        byteOffset, data, 0, data.length);
    position = newPosition;
  }

  /** Whether every number is finite (a guard for very long histories). */
  public boolean isFinite() {
    for (float x : data) {
      if (!Float.isFinite(x)) {
        return false;
      }
    }
    return true;
  }

  public FavorState copy() {
    return new FavorState(heads, features, valueDim, data.clone(), position);
  }

  /** Versioned binary form: version, heads, m, d_v, position, then S' as floats. */
  public void writeTo(DataOutput out) throws IOException {
    out.writeByte(FORMAT_VERSION);
    out.writeInt(heads);
    out.writeInt(features);
    out.writeInt(valueDim);
    out.writeLong(position);
    for (float x : data) {
      out.writeFloat(x);
    }
  }

  /** The length of {@link #writeTo}'s output. */
  public long serializedSize() {
    return 1 + 3 * 4 + 8 + 4L * data.length;
  }

  public static FavorState readFrom(DataInput in) throws IOException {
    int version = in.readUnsignedByte();
    if (version != FORMAT_VERSION) {
      throw new IOException("unsupported FAVOR+ state format version " + version + " (this build "
          + "reads " + FORMAT_VERSION + ")");
    }
    int heads = in.readInt();
    int features = in.readInt();
    int valueDim = in.readInt();
    long position = in.readLong();
    if (heads < 1 || features < 1 || valueDim < 1 || position < 0
        || (long) heads * features * (valueDim + 1) > (1 << 26)) {
      throw new IOException("corrupt FAVOR+ state header: heads=" + heads + ", m=" + features
          + ", d_v=" + valueDim + ", position=" + position);
    }
    float[] data = new float[heads * features * (valueDim + 1)];
    for (int i = 0; i < data.length; i++) {
      data[i] = in.readFloat();
    }
    return new FavorState(heads, features, valueDim, data, position);
  }

  @Override
  public String toString() {
    return "FavorState[heads=" + heads + ", m=" + features + ", d_v=" + valueDim + ", position="
        + position + ", bytes=" + byteSize() + "]";
  }
}
