/*
 * A host emulation of the parts of libcuda.so.1 and libcublas.so that dev.reranker.gpu calls, for
 * CPU-only tests of the Java side: the FFM bindings, argument structs, buffer sizes and offsets,
 * launch grids, GEMM argument order and the pass logic of CudaEncoder. It is NOT a GPU: memory is
 * malloc, copies are memcpy, a "launch" runs the kernel's per-thread body from
 * src/main/cuda/favor_encoder.cu (compiled here as C) for t = 0 .. grid·block − 1 in order, and
 * cublasSgemm is a plain column-major loop. It cannot show races, alignment faults, register
 * limits or speed; those are the device check's (gpu/device-check.sh).
 *
 * Built by GpuEncoderEmulationTest: cc -O2 -shared -fPIC -o libcudaemu.so cuda_emulation.c -lm
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../main/cuda/favor_encoder.cu"

typedef int CUresult;

static long long launches = 0;

/* ---- driver ---- */
CUresult cuInit(unsigned int flags) { return flags == 0 ? 0 : 1; }
CUresult cuDriverGetVersion(int* v) { *v = 0; return 0; }
CUresult cuDeviceGetCount(int* n) { *n = 1; return 0; }
CUresult cuDeviceGet(int* d, int ordinal) { if (ordinal != 0) return 101; *d = 0; return 0; }
CUresult cuDeviceGetName(char* name, int len, int dev) {
  strncpy(name, "host emulation (not a GPU)", (size_t) len - 1);
  name[len - 1] = 0;
  return 0;
}
CUresult cuDeviceGetAttribute(int* v, int attribute, int dev) {
  *v = attribute == 75 ? 9 : attribute == 76 ? 0 : attribute == 16 ? 1 : 0;
  return 0;
}
static int context_token;
CUresult cuDevicePrimaryCtxRetain(void** ctx, int dev) { *ctx = &context_token; return 0; }
CUresult cuDevicePrimaryCtxRelease_v2(int dev) { return 0; }
CUresult cuCtxSetCurrent(void* ctx) { return ctx == &context_token ? 0 : 201; }
CUresult cuCtxSynchronize(void) { return 0; }
CUresult cuMemGetInfo_v2(size_t* free_bytes, size_t* total) {
  *free_bytes = (size_t) 1 << 30;
  *total = (size_t) 1 << 30;
  return 0;
}
CUresult cuMemAlloc_v2(uint64_t* p, size_t bytes) {
  void* m = malloc(bytes);
  if (!m) return 2; /* CUDA_ERROR_OUT_OF_MEMORY */
  memset(m, 0xFF, bytes); /* NaN-filled: a buffer read before it is written shows */
  *p = (uint64_t) (uintptr_t) m;
  return 0;
}
CUresult cuMemFree_v2(uint64_t p) { free((void*) (uintptr_t) p); return 0; }
CUresult cuMemAllocHost_v2(void** p, size_t bytes) { *p = malloc(bytes); return *p ? 0 : 2; }
CUresult cuMemFreeHost(void* p) { free(p); return 0; }
CUresult cuMemcpyHtoDAsync_v2(uint64_t dst, const void* src, size_t n, void* s) {
  memcpy((void*) (uintptr_t) dst, src, n);
  return 0;
}
CUresult cuMemcpyDtoHAsync_v2(void* dst, uint64_t src, size_t n, void* s) {
  memcpy(dst, (const void*) (uintptr_t) src, n);
  return 0;
}
CUresult cuMemcpyDtoDAsync_v2(uint64_t dst, uint64_t src, size_t n, void* s) {
  memmove((void*) (uintptr_t) dst, (const void*) (uintptr_t) src, n);
  return 0;
}
static int module_token;
CUresult cuModuleLoadData(void** module, const void* image) {
  /* a fatbin's magic, or refuse as the driver would refuse garbage */
  if (*(const uint32_t*) image != 0xBA55ED50u) return 200; /* CUDA_ERROR_INVALID_IMAGE */
  *module = &module_token;
  return 0;
}

typedef void (*Body)(i64, const void*);
typedef struct {
  const char* name;
  Body body;
} Kernel;
static void k_embed(i64 t, const void* a) { embed_body(t, (const EmbedArgs*) a); }
static void k_layer_norm(i64 t, const void* a) { layer_norm_body(t, (const LayerNormArgs*) a); }
static void k_bias(i64 t, const void* a) { bias_body(t, (const BiasArgs*) a); }
static void k_features(i64 t, const void* a) { features_body(t, (const FeatureArgs*) a); }
static void k_output(i64 t, const void* a) { output_body(t, (const OutputArgs*) a); }
static void k_scan_16(i64 t, const void* a) { scan_body_16(t, (const ScanArgs*) a); }
static void k_scan_32(i64 t, const void* a) { scan_body_32(t, (const ScanArgs*) a); }
static void k_scan_64(i64 t, const void* a) { scan_body_64(t, (const ScanArgs*) a); }
static void k_chunk_prefix(i64 t, const void* a) {
  chunk_prefix_body(t, (const ChunkPrefixArgs*) a);
}
static void k_chunk_sums_16(i64 t, const void* a) { chunk_sums_body_16(t, (const ChunkSumArgs*) a); }
static void k_chunk_sums_32(i64 t, const void* a) { chunk_sums_body_32(t, (const ChunkSumArgs*) a); }
static void k_chunk_sums_64(i64 t, const void* a) { chunk_sums_body_64(t, (const ChunkSumArgs*) a); }
static void k_chunk_scan_16(i64 t, const void* a) { chunk_scan_body_16(t, (const ChunkScanArgs*) a); }
static void k_chunk_scan_32(i64 t, const void* a) { chunk_scan_body_32(t, (const ChunkScanArgs*) a); }
static void k_chunk_scan_64(i64 t, const void* a) { chunk_scan_body_64(t, (const ChunkScanArgs*) a); }
static Kernel kernels[] = {
    {"embed", k_embed}, {"layer_norm", k_layer_norm}, {"bias", k_bias},
    {"features", k_features}, {"output", k_output}, {"scan_16", k_scan_16},
    {"scan_32", k_scan_32}, {"scan_64", k_scan_64}, {"chunk_prefix", k_chunk_prefix},
    {"chunk_sums_16", k_chunk_sums_16}, {"chunk_sums_32", k_chunk_sums_32},
    {"chunk_sums_64", k_chunk_sums_64}, {"chunk_scan_16", k_chunk_scan_16},
    {"chunk_scan_32", k_chunk_scan_32}, {"chunk_scan_64", k_chunk_scan_64}};

CUresult cuModuleGetFunction(void** f, void* module, const char* name) {
  if (module != &module_token) return 400; /* CUDA_ERROR_INVALID_HANDLE */
  for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++) {
    if (strcmp(kernels[i].name, name) == 0) {
      *f = &kernels[i];
      return 0;
    }
  }
  return 500; /* CUDA_ERROR_NOT_FOUND */
}
CUresult cuLaunchKernel(void* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
    unsigned bz, unsigned shared, void* stream, void** params, void** extra) {
  if (gy != 1 || gz != 1 || by != 1 || bz != 1 || bx == 0 || bx > 1024 || gx == 0) return 1;
  const Kernel* k = (const Kernel*) f;
  const void* args = params[0];
  i64 threads = *(const i64*) args; /* every argument struct starts with its thread count */
  i64 grid = (i64) gx * bx;
  if (grid < threads) return 701; /* a grid too small would leave outputs unwritten */
  for (i64 t = 0; t < threads; t++) k->body(t, args);
  launches++;
  return 0;
}
static int stream_token, event_token;
CUresult cuStreamCreate(void** s, unsigned flags) { *s = &stream_token; return 0; }
CUresult cuStreamSynchronize(void* s) { return 0; }
CUresult cuEventCreate(void** e, unsigned flags) { *e = &event_token; return 0; }
CUresult cuEventRecord(void* e, void* s) { return 0; }
CUresult cuEventSynchronize(void* e) { return 0; }
CUresult cuEventElapsedTime(float* ms, void* a, void* b) { *ms = 0; return 0; }
CUresult cuGetErrorName(CUresult code, const char** name) {
  switch (code) {
    case 1: *name = "CUDA_ERROR_INVALID_VALUE"; return 0;
    case 2: *name = "CUDA_ERROR_OUT_OF_MEMORY"; return 0;
    case 200: *name = "CUDA_ERROR_INVALID_IMAGE"; return 0;
    case 209: *name = "CUDA_ERROR_NO_BINARY_FOR_GPU"; return 0;
    case 500: *name = "CUDA_ERROR_NOT_FOUND"; return 0;
    case 701: *name = "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES"; return 0;
    default: *name = "CUDA_ERROR_UNKNOWN"; return 0;
  }
}
long long emulation_launches(void) { return launches; }

/* ---- cuBLAS ---- */
static int blas_token;
int cublasCreate_v2(void** h) { *h = &blas_token; return 0; }
int cublasSetStream_v2(void* h, void* s) { return 0; }
int cublasGetVersion_v2(void* h, int* v) { *v = 0; return 0; }
int cublasSetMathMode(void* h, int mode) { return mode == 0 || mode == 3 ? 0 : 7; }
int cublasDestroy_v2(void* h) { return 0; }
/* column-major C (m × n) = α·A (m × k)·B (k × n) + β·C, no transposes */
int cublasSgemm_v2(void* h, int ta, int tb, int m, int n, int k, const float* alpha,
    const float* A, int lda, const float* B, int ldb, const float* beta, float* C, int ldc) {
  if (ta != 0 || tb != 0 || lda < m || ldb < k || ldc < m) return 7;
  for (int j = 0; j < n; j++) {
    for (int i = 0; i < m; i++) {
      float acc = 0;
      for (int p = 0; p < k; p++) acc += A[i + (i64) p * lda] * B[p + (i64) j * ldb];
      float* c = &C[i + (i64) j * ldc];
      *c = *beta == 0 ? *alpha * acc : *alpha * acc + *beta * *c; /* β = 0: C is not read */
    }
  }
  return 0;
}
