package dev.reranker.attention;

import java.util.Arrays;

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
