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
    float[] k = keys.dup('c').castTo(DataType.FLOAT).data().asFloat();
    float[] v = values.dup('c').castTo(DataType.FLOAT).data().asFloat();
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

  float[] keys(int head) {
    return keys[head];
  }

  float[] values(int head) {
    return values[head];
  }

  @Override
  public String toString() {
    return "SoftmaxKvCache[heads=" + heads + ", d=" + keyDim + ", d_v=" + valueDim + ", length="
        + length + ", bytes=" + byteSize() + "]";
  }
}
