package dev.reranker.attention;

import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Bulk copies between Java float arrays and ND4J arrays. {@code Nd4j.create(float[], …)} and
 * {@code data().asFloat()} move one element at a time through the buffer's indexer; for the
 * megabytes of per-user state a batched fold moves, a single {@link FloatBuffer} copy is many times
 * faster.
 */
public final class Floats {
  private Floats() {}

  /** A new C-order FLOAT array holding a copy of {@code data}. */
  public static INDArray toArray(float[] data, long... shape) {
    INDArray out = Nd4j.createUninitialized(DataType.FLOAT, shape, 'c');
    if (out.length() != data.length) {
      throw new IllegalArgumentException("shape " + java.util.Arrays.toString(shape) + " holds "
          + out.length() + " values, got " + data.length);
    }
    FloatBuffer target = out.data().asNioFloat();
    target.position((int) out.offset());
    target.put(data);
    return out;
  }

  /** A copy of a FLOAT array's values in C order (any layout; views are made contiguous first). */
  public static float[] toFloats(INDArray a) {
    INDArray c = a.dataType() != DataType.FLOAT ? a.castTo(DataType.FLOAT).dup('c')
        : a.isView() || a.ordering() != 'c' ? a.dup('c') : a;
    float[] out = new float[(int) c.length()];
    FloatBuffer source = c.data().asNioFloat();
    source.position((int) c.offset());
    source.get(out);
    return out;
  }
}
