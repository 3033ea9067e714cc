package dev.reranker.gpu;

import java.util.List;

/**
 * Where to find the CUDA libraries and how much device memory a pass may use.
 *
 * @param cudaLibrary the driver library ({@code libcuda.so.1}): a path or a name for the
 *     dynamic loader; null or blank: the search order of {@link #DRIVER_CANDIDATES}
 * @param cublasLibrary cuBLAS ({@code libcublas.so.13} or {@code .12}); null or blank: the search
 *     order of {@link #cublasCandidates()}
 * @param maxRows the most event rows one pass holds on the device (≈ 4 KB each for the default
 *     model: 262,144 rows ≈ 1 GB); longer work runs in several passes, the state carried between
 *     them
 * @param device the CUDA device ordinal
 */
public record GpuSettings(String cudaLibrary, String cublasLibrary, int maxRows, int device) {

  /** Tried in order when no driver path is set: the loader's path, then the usual places. */
  public static final List<String> DRIVER_CANDIDATES = List.of("libcuda.so.1",
      "/usr/lib/x86_64-linux-gnu/libcuda.so.1", "/usr/local/nvidia/lib64/libcuda.so.1",
      "/usr/lib64/libcuda.so.1", "/usr/local/cuda/compat/libcuda.so.1");

  public static final int DEFAULT_MAX_ROWS = 262_144;

  public GpuSettings {
    if (maxRows < 1) {
      throw new IllegalArgumentException("maxRows must be ≥ 1, got " + maxRows);
    }
    if (device < 0) {
      throw new IllegalArgumentException("device must be ≥ 0, got " + device);
    }
  }

  /** The defaults: search for both libraries, {@value #DEFAULT_MAX_ROWS} rows, device 0. */
  public static GpuSettings defaults() {
    return new GpuSettings(null, null, DEFAULT_MAX_ROWS, 0);
  }

  /** The driver libraries to try, in order. */
  public List<String> driverCandidates() {
    return cudaLibrary == null || cudaLibrary.isBlank() ? DRIVER_CANDIDATES : List.of(cudaLibrary);
  }

  /**
   * The cuBLAS libraries to try, in order: the setting alone when set; else {@code $CUDA_HOME}'s,
   * the loader's path, then the toolkit's usual places (13 before 12).
   */
  public List<String> cublasCandidates() {
    if (cublasLibrary != null && !cublasLibrary.isBlank()) {
      return List.of(cublasLibrary);
    }
    java.util.ArrayList<String> out = new java.util.ArrayList<>();
    String home = System.getenv("CUDA_HOME");
    for (String version : List.of("13", "12")) {
      if (home != null && !home.isBlank()) {
        out.add(home + "/lib64/libcublas.so." + version);
        out.add(home + "/targets/x86_64-linux/lib/libcublas.so." + version);
      }
      out.add("libcublas.so." + version);
      out.add("/usr/local/cuda/lib64/libcublas.so." + version);
      out.add("/usr/local/cuda-" + version + ".0/targets/x86_64-linux/lib/libcublas.so."
          + version);
      out.add("/usr/lib/x86_64-linux-gnu/libcublas.so." + version);
    }
    return out;
  }
}
