package dev.reranker.attention;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The exact-softmax baseline's incremental state for one attention layer of one user: every key and
 * value seen so far, per head. It grows with the history (4·heads·(d + d_v) bytes per event), which is
 * the cost the FAVOR+ arm's constant-size {@link FavorState} removes.
 *
 * <p>float32 storage, per head contiguous (position-major) so a step scans memory linearly. Capacity
 * doubles on demand; {@link #byteSize()} counts the payload, not spare capacity.
 * Mutable; not thread-safe.
 */
public final class SoftmaxKvCache implements AttentionState {

  private final int heads;
  private final int keyDim; // d
  private final int valueDim; // d_v
  private float[][] keys; // [head] (position, d)
  private float[][] values; // [head] (position, d_v)
  private int length;

  public SoftmaxKvCache(int heads, int keyDim, int valueDim) {
    this.heads = Checks.positive("heads", heads);
    this.keyDim = Checks.positive("keyDim", keyDim);
    this.valueDim = Checks.positive("valueDim", valueDim);
    this.keys = new float[heads][16 * keyDim];
    this.values = new float[heads][16 * valueDim];
  }

  /**
   * A cache holding the keys and values of a whole history at once (no attention computed), e.g.
   * rebuilt from a batched projection of stored events.
   *
   * @param keys (heads, length, d)
   * @param values (heads, length, d_v)
   */
  public static SoftmaxKvCache of(INDArray keys,
      INDArray values) {
    Checks.rank3("keys", keys, -1, -1, -1);
    Checks.rank3("values", values, keys.size(0), keys.size(1), -1);
    int heads = (int) keys.size(0);
    int length = (int) keys.size(1);
    SoftmaxKvCache cache = new SoftmaxKvCache(heads, (int) keys.size(2), (int) values.size(2));
    float[] k = Floats.toFloats(keys);
    float[] v = Floats.toFloats(values);
    int capacity = Math.max(16, length);
    int d = cache.keyDim;
    int dv = cache.valueDim;
    for (int h = 0; h < heads; h++) {
      cache.keys[h] = Arrays.copyOf(Arrays.copyOfRange(k, h * length * d, (h + 1) * length * d),
          capacity * d);
      cache.values[h] = Arrays.copyOf(Arrays.copyOfRange(v, h * length * dv,
          (h + 1) * length * dv), capacity * dv);
    }
    cache.length = length;
    return cache;
  }

  /** Events held (= events folded). */
  public int length() {
    return length;
  }

  @Override
  public long position() {
    return length;
  }

  /** 4 bytes per stored key and value number, plus 8 for the position. */
  @Override
  public long byteSize() {
    return 4L * length * heads * (keyDim + valueDim) + Long.BYTES;
  }

  public int heads() {
    return heads;
  }

  public int keyDim() {
    return keyDim;
  }

  public int valueDim() {
    return valueDim;
  }

  /** Drops the newest events so that {@code newLength} remain (undo of appends). */
  public void truncate(int newLength) {
    if (newLength < 0 || newLength > length) {
      throw new IllegalArgumentException("newLength must be in [0, " + length + "], got "
          + newLength);
    }
    length = newLength;
  }

  /** Appends one event's keys and values (all heads, head-major). */
  void append(float[] k, int kOffset, float[] v, int vOffset) {
    if (length == Integer.MAX_VALUE / Math.max(keyDim, valueDim)) {
      throw new IllegalStateException("KV cache is full at " + length + " events");
    }
    if ((length + 1) * keyDim > keys[0].length) {
      int capacity = Math.max(16, 2 * length);
      for (int h = 0; h < heads; h++) {
        keys[h] = Arrays.copyOf(keys[h], capacity * keyDim);
        values[h] = Arrays.copyOf(values[h], capacity * valueDim);
      }
    }
    for (int h = 0; h < heads; h++) {
      System.arraycopy(k, kOffset + h * keyDim, keys[h], length * keyDim, keyDim);
      System.arraycopy(v, vOffset + h * valueDim, values[h], length * valueDim, valueDim);
    }
    length++;
  }

  /** Head {@code head}'s key of the event at {@code position}, component {@code j}. */
  public float key(int head, int position, int j) {
    Checks.index("position", position, length);
    Checks.index("j", j, keyDim);
    return keys[head][position * keyDim + j];
  }

  /** Head {@code head}'s value of the event at {@code position}, component {@code j}. */
  public float value(int head, int position, int j) {
    Checks.index("position", position, length);
    Checks.index("j", j, valueDim);
    return values[head][position * valueDim + j];
  }

  float[] keys(int head) {
    return keys[head];
  }

  @Override
  public float readAhead() {
    float sum = 0;
    for (int h = 0; h < heads; h++) {
      for (int i = 0; i < length * keyDim; i += FavorState.FLOATS_PER_CACHE_LINE) {
        sum += keys[h][i];
      }
      for (int i = 0; i < length * valueDim; i += FavorState.FLOATS_PER_CACHE_LINE) {
        sum += values[h][i];
      }
    }
    return sum;
  }

  float[] values(int head) {
    return values[head];
  }

  private static final int FORMAT_VERSION = 1;

  /** A deep copy. */
  public SoftmaxKvCache copy() {
    SoftmaxKvCache c = new SoftmaxKvCache(heads, keyDim, valueDim);
    for (int h = 0; h < heads; h++) {
      c.keys[h] = keys[h].clone();
      c.values[h] = values[h].clone();
    }
    c.length = length;
    return c;
  }

  /** Versioned binary form: version, heads, d, d_v, length, then per head keys and values. */
  public void writeTo(java.io.DataOutput out) throws java.io.IOException {
    out.writeByte(FORMAT_VERSION);
    out.writeInt(heads);
    out.writeInt(keyDim);
    out.writeInt(valueDim);
    out.writeInt(length);
    for (int h = 0; h < heads; h++) {
      for (int i = 0; i < length * keyDim; i++) {
        out.writeFloat(keys[h][i]);
      }
      for (int i = 0; i < length * valueDim; i++) {
        out.writeFloat(values[h][i]);
      }
    }
  }

  /** The length of {@link #writeTo}'s output. */
  public long serializedSize() {
    return 1 + 4 * 4 + 4L * length * heads * (keyDim + valueDim);
  }

  public static SoftmaxKvCache readFrom(java.io.DataInput in) throws java.io.IOException {
    int version = in.readUnsignedByte();
    if (version != FORMAT_VERSION) {
      throw new java.io.IOException("unsupported KV cache format version " + version);
    }
    int heads = in.readInt();
    int keyDim = in.readInt();
    int valueDim = in.readInt();
    int length = in.readInt();
    if (heads < 1 || keyDim < 1 || valueDim < 1 || length < 0
        || (long) length * heads * (keyDim + valueDim) > (1L << 30)) {
      throw new java.io.IOException("corrupt KV cache header");
    }
    SoftmaxKvCache cache = new SoftmaxKvCache(heads, keyDim, valueDim);
    int capacity = Math.max(16, length);
    for (int h = 0; h < heads; h++) {
      cache.keys[h] = new float[capacity * keyDim];
      cache.values[h] = new float[capacity * valueDim];
      for (int i = 0; i < length * keyDim; i++) {
        cache.keys[h][i] = in.readFloat();
      }
      for (int i = 0; i < length * valueDim; i++) {
        cache.values[h][i] = in.readFloat();
      }
    }
    cache.length = length;
    return cache;
  }

  @Override
  public String toString() {
    return "SoftmaxKvCache[heads=" + heads + ", d=" + keyDim + ", d_v=" + valueDim + ", length="
        + length + ", bytes=" + byteSize() + "]";
  }
}
