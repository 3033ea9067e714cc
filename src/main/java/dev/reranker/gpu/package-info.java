/**
 * The GPU path for batched encoder work, on the machine's own CUDA installation through JDK 25's
 * Foreign Function &amp; Memory API: bindings to the driver API ({@link Cuda}) and cuBLAS
 * ({@link Cublas}), the project's kernels shipped as one fatbin ({@link Fatbin},
 * {@code src/main/cuda/favor_encoder.cu}), and the FAVOR+ encoder built from them
 * ({@link CudaEncoder}).
 *
 * <p>Ground floor: no Spring, Kafka or ND4J here, and no other package of the project. ND4J's own
 * CUDA backend ({@code nd4j-cuda-11.6}) ships machine code up to sm_86 and no PTX, so it cannot
 * load on Hopper; this package is what runs there. Nothing in it is needed on a machine without a
 * GPU: opening the driver fails with a {@link GpuUnavailableException} that says why, and the
 * caller stays on the CPU.
 */
package dev.reranker.gpu;
