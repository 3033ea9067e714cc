package dev.reranker.attention;

import java.util.Locale;

/**
 * Chooses {@link FloatKernels#preferred()} once per JVM. The Vector API implementation is loaded by
 * name, and only when its module is in the boot layer, so that a JVM without it never links a class
 * that refers to {@code jdk.incubator.vector}.
 */
final class FloatKernelsChoice {

  static final String VECTOR_MODULE = "jdk.incubator.vector";
  private static final String VECTOR_CLASS = "dev.reranker.attention.VectorFloatKernels";

  static final FloatKernels PREFERRED;
  static final String REASON;

  static {
    String asked = System.getProperty(FloatKernels.PROPERTY, "auto").trim()
        .toLowerCase(Locale.ROOT);
    FloatKernels chosen = ScalarFloatKernels.INSTANCE;
    String noC2 = withoutOptimisingCompiler();
    String reason;
    if (asked.equals("scalar")) {
      reason = "-D" + FloatKernels.PROPERTY + "=scalar";
    } else if (!asked.equals("auto")) {
      reason = "-D" + FloatKernels.PROPERTY + "=" + asked + " is neither auto nor scalar; "
          + "running the reference kernels";
    } else if (ModuleLayer.boot().findModule(VECTOR_MODULE).isEmpty()) {
      reason = VECTOR_MODULE + " is not resolved (start java with --add-modules "
          + VECTOR_MODULE + " for the vector kernels)";
    } else if (noC2 != null) {
      // the Vector API is fast only once C2 intrinsifies it; interpreted, a lane loop is far
      // slower than the scalar reference
      reason = VECTOR_MODULE + " is resolved, but " + noC2 + " leaves it to the interpreter or C1";
    } else {
      FloatKernels vector = null;
      String failure = null;
      try {
        vector = (FloatKernels) Class.forName(VECTOR_CLASS).getDeclaredConstructor().newInstance();
      } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
        failure = e.toString();
      }
      if (vector != null && vector.name().startsWith("vector")) {
        chosen = vector;
        reason = VECTOR_MODULE + " is resolved";
      } else {
        reason = VECTOR_MODULE + " is resolved but unusable here: "
            + (failure != null ? failure : "fewer than 4 float lanes");
      }
    }
    PREFERRED = chosen;
    REASON = reason;
  }

  /** The JVM option that keeps C2 away, or null. */
  private static String withoutOptimisingCompiler() {
    try {
      for (String option : java.lang.management.ManagementFactory.getRuntimeMXBean()
          .getInputArguments()) {
        if (option.equals("-Xint") || option.startsWith("-XX:TieredStopAtLevel=")
            && !option.endsWith("=4")) {
          return option;
        }
      }
    } catch (RuntimeException | LinkageError e) {
      // no management module: nothing known against the vector kernels
    }
    return null;
  }

  private FloatKernelsChoice() {}
}
