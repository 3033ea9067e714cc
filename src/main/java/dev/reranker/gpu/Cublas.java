package dev.reranker.gpu;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * cuBLAS through FFM: one handle bound to one stream, single-precision GEMM on row-major
 * matrices, and the math mode (fp32 or TF32 tensor cores). Not thread-safe (one per stream).
 */
public final class Cublas implements AutoCloseable {

  /** How GEMMs multiply: exact fp32, or TF32 tensor-core inputs (10-bit mantissa, fp32 sums). */
  public enum MathMode {
    FP32(0),
    TF32(3);

    final int code;

    MathMode(int code) {
      this.code = code;
    }
  }

  private static final int OP_N = 0;

  private final NativeLibrary library;
  private final MethodHandle sgemm;
  private final MethodHandle setMathMode;
  private final MethodHandle destroy;
  private final MemorySegment handle;
  private final int version;
  private final Arena scalars = Arena.ofShared();
  private final MemorySegment alphaBeta;

  private Cublas(NativeLibrary lib, MemorySegment stream) throws GpuUnavailableException {
    this.library = lib;
    MethodHandle create = lib.function("cublasCreate_v2", FunctionDescriptor.of(JAVA_INT,
        ADDRESS));
    MethodHandle setStream = lib.function("cublasSetStream_v2", FunctionDescriptor.of(JAVA_INT,
        ADDRESS, ADDRESS));
    MethodHandle getVersion = lib.function("cublasGetVersion_v2", FunctionDescriptor.of(JAVA_INT,
        ADDRESS, ADDRESS));
    sgemm = lib.function("cublasSgemm_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT,
        JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT,
        ADDRESS, JAVA_LONG, JAVA_INT));
    setMathMode = lib.function("cublasSetMathMode", FunctionDescriptor.of(JAVA_INT, ADDRESS,
        JAVA_INT));
    destroy = lib.function("cublasDestroy_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(JAVA_LONG);
      int status = (int) create.invokeExact(out);
      if (status != 0) {
        throw new GpuUnavailableException("cublasCreate failed: " + statusName(status) + " from "
            + lib.path());
      }
      handle = out.get(ADDRESS, 0);
      check("cublasSetStream", (int) setStream.invokeExact(handle, stream));
      check("cublasGetVersion", (int) getVersion.invokeExact(handle, out));
      version = out.get(JAVA_INT, 0);
    } catch (GpuUnavailableException e) {
      throw e;
    } catch (Throwable t) {
      throw new GpuUnavailableException("cuBLAS failed: " + t, t);
    }
    alphaBeta = scalars.allocate(JAVA_FLOAT, 2);
  }

  /**
   * Loads cuBLAS (its Lt companion first, from the same directory, so the loader finds it) and
   * creates a handle on {@code stream}, with the driver's context current on this thread.
   */
  public static Cublas open(GpuSettings settings, MemorySegment stream)
      throws GpuUnavailableException {
    NativeLibrary lib = null;
    GpuUnavailableException last = null;
    for (String candidate : settings.cublasCandidates()) {
      if (candidate.contains("/")) {
        Path lt = Path.of(candidate.replace("libcublas.so", "libcublasLt.so"));
        if (Files.exists(lt)) {
          try {
            NativeLibrary.open("cuBLASLt", java.util.List.of(lt.toString()), Arena.global());
          } catch (GpuUnavailableException e) {
            last = e;
          }
        }
      }
      try {
        lib = NativeLibrary.open("cuBLAS", java.util.List.of(candidate), Arena.global());
        break;
      } catch (GpuUnavailableException e) {
        last = e;
      }
    }
    if (lib == null) {
      throw new GpuUnavailableException("no cuBLAS could be loaded from "
          + settings.cublasCandidates() + " (last: " + (last == null ? "-" : last.getMessage())
          + "); set reranker.gpu.cublas-library", last);
    }
    return new Cublas(lib, stream);
  }

  /** "cuBLAS 13.0.2 (/usr/local/cuda-13.0/…/libcublas.so.13)". */
  public String describe() {
    return "cuBLAS " + version / 10000 + "." + version / 100 % 100 + "." + version % 100 + " ("
        + library.path() + ")";
  }

  public void mathMode(MathMode mode) {
    try {
      check("cublasSetMathMode", (int) setMathMode.invokeExact(handle, mode.code));
    } catch (Cuda.CudaException e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  /**
   * C = α·A·B + β·C for row-major A (rows × inner, leading dimension lda), B (inner × cols, ldb),
   * C (rows × cols, ldc), device pointers. cuBLAS is column-major, where a row-major matrix is
   * its transpose: Cᵀ = Bᵀ·Aᵀ is the call.
   */
  public void gemm(int rows, int cols, int inner, float alpha, long a, int lda, long b, int ldb,
      float beta, long c, int ldc) {
    alphaBeta.setAtIndex(JAVA_FLOAT, 0, alpha);
    alphaBeta.setAtIndex(JAVA_FLOAT, 1, beta);
    try {
      check("cublasSgemm(" + rows + "×" + inner + "·" + inner + "×" + cols + ")",
          (int) sgemm.invokeExact(handle, OP_N, OP_N, cols, rows, inner, alphaBeta, b, ldb, a,
              lda, alphaBeta.asSlice(4), c, ldc));
    } catch (Cuda.CudaException e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  @Override
  public void close() {
    try {
      int ignored = (int) destroy.invokeExact(handle);
    } catch (Throwable t) {
      // closing: nothing left to do with the handle
    }
    scalars.close();
  }

  private static void check(String what, int status) {
    if (status != 0) {
      throw new Cuda.CudaException(what, status, statusName(status));
    }
  }

  static String statusName(int status) {
    return switch (status) {
      case 1 -> "CUBLAS_STATUS_NOT_INITIALIZED";
      case 3 -> "CUBLAS_STATUS_ALLOC_FAILED";
      case 7 -> "CUBLAS_STATUS_INVALID_VALUE";
      case 8 -> "CUBLAS_STATUS_ARCH_MISMATCH";
      case 11 -> "CUBLAS_STATUS_MAPPING_ERROR";
      case 13 -> "CUBLAS_STATUS_EXECUTION_FAILED";
      case 14 -> "CUBLAS_STATUS_INTERNAL_ERROR";
      case 15 -> "CUBLAS_STATUS_NOT_SUPPORTED";
      default -> "cublasStatus " + status;
    };
  }
}
