package dev.reranker.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.reranker.gpu.GpuSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The host emulation of libcuda and cuBLAS ({@code src/test/c/cuda_emulation.c}), compiled once
 * per JVM into {@code target/cuda-emulation/}: what lets CPU-only tests run the GPU encoder's Java
 * side end to end. It is not a GPU, and the tests that use it say so. Needs a C compiler
 * ({@code cc}); without one they skip with that message, unless {@code RERANKER_REQUIRE_CC=1}
 * (CI sets it) makes that a failure.
 */
public final class CudaEmulation {

  private static final Path SOURCE = Path.of("src/test/c/cuda_emulation.c");
  private static final Path LIBRARY = Path.of("target/cuda-emulation/libcudaemu.so");
  private static Path built;

  private CudaEmulation() {}

  /** The emulation library, built if needed. */
  public static synchronized Path library() throws IOException, InterruptedException {
    if (built != null) {
      return built;
    }
    boolean required = "1".equals(System.getenv("RERANKER_REQUIRE_CC"));
    boolean haveCc = new ProcessBuilder("sh", "-c", "command -v cc").start().waitFor() == 0;
    if (!haveCc && required) {
      throw new IllegalStateException("RERANKER_REQUIRE_CC=1 but no C compiler (cc) is installed");
    }
    assumeTrue(haveCc, "no C compiler (cc): the GPU encoder's host emulation cannot be built "
        + "(apt-get install gcc); CI installs it and runs these tests");
    Files.createDirectories(LIBRARY.getParent());
    Process cc = new ProcessBuilder(List.of("cc", "-O2", "-std=c11", "-Wall", "-Werror",
        "-Wno-unused-parameter", "-shared", "-fPIC", "-o", LIBRARY.toString(), SOURCE.toString(),
        "-lm")).redirectErrorStream(true).start();
    String output = new String(cc.getInputStream().readAllBytes());
    if (!cc.waitFor(120, TimeUnit.SECONDS) || cc.exitValue() != 0) {
      throw new IllegalStateException("cc failed on " + SOURCE + ":\n" + output);
    }
    built = LIBRARY.toAbsolutePath();
    return built;
  }

  /** GPU settings that load the emulation for both the driver and cuBLAS. */
  public static GpuSettings settings(int maxRows) throws IOException, InterruptedException {
    String lib = library().toString();
    return new GpuSettings(lib, lib, maxRows, 0);
  }
}
