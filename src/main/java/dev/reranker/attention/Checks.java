package dev.reranker.attention;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Argument checks that fail fast with a message naming the argument and what was expected. */
final class Checks {
  private Checks() {}

  static <T> T notNull(String name, T value) {
    if (value == null) {
      throw new IllegalArgumentException(name + " must not be null");
    }
    return value;
  }

  static int index(String name, int value, int size) {
    if (value < 0 || value >= size) {
      throw new IndexOutOfBoundsException(name + " " + value + " outside [0, " + size + ")");
    }
    return value;
  }

  static int positive(String name, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(name + " must be ≥ 1, got " + value);
    }
    return value;
  }

  static long positive(String name, long value) {
    if (value < 1) {
      throw new IllegalArgumentException(name + " must be ≥ 1, got " + value);
    }
    return value;
  }

  static double positiveFinite(String name, double value) {
    if (!(value > 0) || Double.isInfinite(value)) {
      throw new IllegalArgumentException(name + " must be a finite number > 0, got " + value);
    }
    return value;
  }

  /** Checks a rank-3 floating-point array against an expected shape; -1 in {@code expected} = any. */
  static INDArray rank3(String name, INDArray a, long... expected) {
    notNull(name, a);
    if (a.rank() != 3) {
      throw new IllegalArgumentException(name + " must have rank 3 (batch, length, dim), got shape "
          + Arrays.toString(a.shape()));
    }
    floating(name, a);
    long[] shape = a.shape();
    for (int i = 0; i < 3; i++) {
      if (expected[i] >= 0 && shape[i] != expected[i]) {
        throw new IllegalArgumentException(name + " must have shape " + describe(expected)
            + ", got " + Arrays.toString(shape));
      }
    }
    if (shape[1] < 1) {
      throw new IllegalArgumentException(name + " must hold at least one position, got shape "
          + Arrays.toString(shape));
    }
    return a;
  }

  static void floating(String name, INDArray a) {
    DataType t = a.dataType();
    if (t != DataType.FLOAT && t != DataType.DOUBLE) {
      throw new IllegalArgumentException(name + " must be FLOAT or DOUBLE, got " + t);
    }
  }

  static void sameType(INDArray first, INDArray... others) {
    for (INDArray o : others) {
      if (o.dataType() != first.dataType()) {
        throw new IllegalArgumentException("all inputs must share one data type, got "
            + first.dataType() + " and " + o.dataType());
      }
    }
  }

  static void length(String name, float[] a, int expected) {
    notNull(name, a);
    if (a.length != expected) {
      throw new IllegalArgumentException(name + " must have length " + expected + ", got "
          + a.length);
    }
  }

  private static String describe(long[] expected) {
    StringBuilder b = new StringBuilder("[");
    String[] names = {"batch", "length", "dim"};
    for (int i = 0; i < expected.length; i++) {
      if (i > 0) {
        b.append(", ");
      }
      b.append(expected[i] >= 0 ? Long.toString(expected[i]) : names[i]);
    }
    return b.append(']').toString();
  }
}
