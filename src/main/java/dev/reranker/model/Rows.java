package dev.reranker.model;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Row gathers (embedding lookups) and scatter-adds (their gradients). The scatter runs in Java over
 * a direct view of the native buffer: ND4J's scatter ops cost more per call than the whole loop.
 */
public final class Rows {
  private Rows() {}

  /** Rows of {@code table} at the given indices, (indices.length, width), a new C-order array. */
  public static INDArray gather(INDArray table, int[] indices) {
    return Nd4j.pullRows(table, 1, indices, 'c');
  }

  /**
   * target[indices[i]] += updates[i] for every row i; repeated indices accumulate.
   *
   * @param target (rows, width), a C-order array that is not a view
   * @param updates (indices.length, width)
   */
  public static void scatterAdd(INDArray target, int[] indices, INDArray updates) {
    if (target.isView() || target.ordering() != 'c') {
      throw new IllegalArgumentException("scatter target must be a C-order array, not a view");
    }
    INDArray u = updates.isView() || updates.ordering() != 'c' ? updates.dup('c') : updates;
    int width = (int) target.size(1);
    if (u.size(0) != indices.length || u.size(1) != width) {
      throw new IllegalArgumentException("updates must be (" + indices.length + ", " + width
          + "), got " + java.util.Arrays.toString(u.shape()));
    }
    if (target.dataType() == DataType.DOUBLE) {
      DoubleBuffer t = target.data().asNioDouble();
      DoubleBuffer s = u.data().asNioDouble();
      for (int i = 0; i < indices.length; i++) {
        int tRow = indices[i] * width;
        int sRow = i * width;
        for (int j = 0; j < width; j++) {
          t.put(tRow + j, t.get(tRow + j) + s.get(sRow + j));
        }
      }
    } else {
      FloatBuffer t = target.data().asNioFloat();
      FloatBuffer s = u.data().asNioFloat();
      for (int i = 0; i < indices.length; i++) {
        int tRow = indices[i] * width;
        int sRow = i * width;
        for (int j = 0; j < width; j++) {
          t.put(tRow + j, t.get(tRow + j) + s.get(sRow + j));
        }
      }
    }
  }
}
