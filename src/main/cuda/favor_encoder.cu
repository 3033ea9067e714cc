// FAVOR+ encoder kernels: the position-wise parts of the Performer's forward pass that cuBLAS
// does not do (embedding gather, LayerNorm, bias + GELU, the positive feature maps) and the causal
// linear-attention scan that carries each user's [S | z] state across events.
//
// Every kernel takes one argument, a struct of 8-byte fields (pointers, long long, double): Java
// writes it field by field into one buffer with no padding rules to get wrong, and the host
// emulation (src/test/c/cuda_emulation.c, CPU tests of the Java plumbing) reads the same struct.
// Each thread owns its outputs and never cooperates with another thread (no shared memory, no
// shuffles): a kernel is its per-thread body run for t = 0 .. threads-1, which is also how the
// emulation runs it. The numerics follow the CPU reference (IncrementalEncoder, FavorStepKernel,
// SoftmaxKernelFeatureMap) operation by operation in float32.
//
// Built into src/main/resources/gpu/favor_encoder.fatbin (sm_90 SASS + compute_90 PTX) by
// gpu/build-fatbin.sh; FatbinTest fails when that file is stale against this source.

#ifdef __CUDACC__
#define BODY static __device__ __forceinline__
#else
#include <math.h>
#define BODY static inline
#endif

typedef long long i64;

// ---- embedding + order signal: x[r][j] = items[item[r]][j] + index[ib[r]][j] + gaps[gb[r]][j]
typedef struct {
  i64 threads; // rows · d
  const int* item;
  const int* indexBucket;
  const int* gapBucket;
  const float* items;
  const float* index;
  const float* gaps;
  float* x;
  i64 d;
} EmbedArgs;

BODY void embed_body(i64 t, const EmbedArgs* a) {
  i64 r = t / a->d, j = t % a->d, d = a->d;
  a->x[t] = a->items[a->item[r] * d + j] + a->index[a->indexBucket[r] * d + j]
      + a->gaps[a->gapBucket[r] * d + j];
}

// ---- LayerNorm of rows (two-pass mean and variance, as Ops.layerNorm); rowIndex null: identity
typedef struct {
  i64 threads; // output rows
  const float* in;
  const int* rowIndex;
  const float* gain;
  const float* bias;
  float* out;
  i64 d;
  double eps;
} LayerNormArgs;

BODY void layer_norm_body(i64 t, const LayerNormArgs* a) {
  i64 d = a->d;
  i64 src = a->rowIndex ? (i64) a->rowIndex[t] : t;
  const float* x = a->in + src * d;
  float* y = a->out + t * d;
  float mean = 0;
  for (i64 j = 0; j < d; j++) mean += x[j];
  mean /= (float) d;
  float variance = 0;
  for (i64 j = 0; j < d; j++) {
    float c = x[j] - mean;
    variance += c * c;
  }
  variance /= (float) d;
  float inverseStd = (float) (1.0 / sqrt((double) variance + a->eps));
  for (i64 j = 0; j < d; j++) y[j] = (x[j] - mean) * inverseStd * a->gain[j] + a->bias[j];
}

// ---- x[r][c] += bias[c], then GELU (tanh form, Ops.gelu) when gelu != 0
typedef struct {
  i64 threads; // rows · cols
  float* x;
  const float* bias;
  i64 cols;
  i64 gelu;
  double geluC;
  double geluA;
} BiasArgs;

BODY void bias_body(i64 t, const BiasArgs* a) {
  float v = a->x[t] + a->bias[t % a->cols];
  if (a->gelu) {
    float inner = (float) a->geluC * (v + (float) a->geluA * v * v * v);
    v = 0.5f * v * (1.0f + tanhf(inner));
  }
  a->x[t] = v;
}

// ---- FAVOR+ features of one (row, head): u = W·x̃ (cuBLAS, scaled by inputScale) given,
// φ_i = outputScale·(exp(u_i − ‖x̃‖²/2 − c) + ε), c = max for queries, shift for keys;
// ReLU kernel: φ_i = outputScale·(max(u_i, 0) + ε).
typedef struct {
  i64 threads; // rows · heads
  const float* u; // (rows·heads, m)
  const float* x; // (rows·heads, dh): q or k
  float* phi; // (rows·heads, m)
  i64 m;
  i64 dh;
  double inputScale;
  double outputScale;
  double eps;
  double shift;
  i64 query;
  i64 relu;
} FeatureArgs;

BODY void features_body(i64 t, const FeatureArgs* a) {
  i64 m = a->m;
  const float* u = a->u + t * m;
  float* phi = a->phi + t * m;
  if (a->relu) {
    for (i64 i = 0; i < m; i++) {
      phi[i] = (fmaxf(u[i], 0.0f) + (float) a->eps) * (float) a->outputScale;
    }
    return;
  }
  const float* x = a->x + t * a->dh;
  float scale = (float) a->inputScale;
  float sq = 0;
  for (i64 j = 0; j < a->dh; j++) {
    float xs = x[j] * scale;
    sq += xs * xs;
  }
  float half = 0.5f * sq;
  float c;
  if (a->query) {
    c = -INFINITY;
    for (i64 i = 0; i < m; i++) c = fmaxf(c, u[i] - half);
  } else {
    c = (float) a->shift;
  }
  for (i64 i = 0; i < m; i++) {
    float e = u[i] - half - c;
    phi[i] = (float) (((double) expf(e) + a->eps) * a->outputScale);
  }
}

// ---- the causal scan: thread (sequence, head, column j of [S | z]) walks its sequence's rows,
// S[:, j] += φ(k_t)·[v_t, 1]_j, then num_t[j] = φ(q_t)ᵀ S[:, j] (the new event included, as
// FavorStepKernel). The column lives in registers; the state is read once and written once.
typedef struct {
  i64 threads; // sequences · heads · (dv + 1)
  const float* phiq; // (rows·heads, m)
  const float* phik; // (rows·heads, m)
  const float* v; // (rows, heads·dv)
  float* states; // slots · stateStride
  float* num; // (rows·heads, dv + 1)
  const int* seqStart; // first row of each sequence
  const int* seqLength; // rows of each sequence
  const int* seqSlot; // state slot of each sequence
  i64 heads;
  i64 m;
  i64 dv;
  i64 stateStride; // floats per slot: layers · heads · m · (dv + 1)
  i64 layerOffset; // this layer's offset within a slot
} ScanArgs;

// The rows of one (sequence or chunk, head, column j), walked from the state column col[]:
// S[:, j] += φ(k_r)·[v_r, 1]_j, then num_r[j] = φ(q_r)ᵀ S[:, j] (the new event included, as
// FavorStepKernel). Shared by the plain and the chunked scan; expects a, h, j, width, start,
// length and col in scope.
#define SCAN_ROWS(M)                                                                        \
  for (i64 r = start; r < start + length; r++) {                                            \
    const float* fk = a->phik + (r * a->heads + h) * M;                                     \
    const float* fq = a->phiq + (r * a->heads + h) * M;                                     \
    float vj = j < a->dv ? a->v[r * a->heads * a->dv + h * a->dv + j] : 1.0f;               \
    float acc = 0;                                                                          \
    for (int i = 0; i < M; i++) {                                                           \
      col[i] += fk[i] * vj;                                                                 \
      acc += fq[i] * col[i];                                                                \
    }                                                                                       \
    a->num[(r * a->heads + h) * width + j] = acc;                                           \
  }

#define SCAN_BODY(M)                                                                        \
  BODY void scan_body_##M(i64 t, const ScanArgs* a) {                                       \
    i64 width = a->dv + 1;                                                                  \
    i64 seq = t / (a->heads * width), rem = t % (a->heads * width);                         \
    i64 h = rem / width, j = rem % width;                                                   \
    float* s = a->states + (i64) a->seqSlot[seq] * a->stateStride + a->layerOffset          \
        + h * M * width + j;                                                                \
    float col[M];                                                                           \
    for (int i = 0; i < M; i++) col[i] = s[i * width];                                      \
    i64 start = a->seqStart[seq], length = a->seqLength[seq];                               \
    SCAN_ROWS(M)                                                                            \
    for (int i = 0; i < M; i++) s[i * width] = col[i];                                      \
  }
SCAN_BODY(16)
SCAN_BODY(32)
SCAN_BODY(64)

// ---- the chunked causal scan, for long sequences (a cold re-encode): the single-thread-per-
// column scan above walks a 65,536-event history one row after another; here each sequence is cut
// into chunks of at most C rows and three kernels run them in parallel:
//   1. chunk_sums: per (chunk, head, column j), Σ_rows φ(k)·[v, 1]_j over the chunk's rows;
//   2. chunk_prefix: per (sequence, head, i, j), walks the sequence's chunks turning the sums into
//      exclusive prefixes that start from the user's state, and writes the final state back;
//   3. chunk_scan: per (chunk, head, j), the scan above over the chunk's rows, starting from its
//      prefix. The result is the sequential scan's up to float summation order.
typedef struct {
  i64 threads; // chunks · heads · (dv + 1)
  const float* phik; // (rows·heads, m)
  const float* v; // (rows, heads·dv)
  float* sums; // (chunks, heads, m, dv + 1)
  const int* chunkStart; // first row of each chunk
  const int* chunkLength; // rows of each chunk
  i64 heads;
  i64 m;
  i64 dv;
} ChunkSumArgs;

#define CHUNK_SUMS_BODY(M)                                                                   \
  BODY void chunk_sums_body_##M(i64 t, const ChunkSumArgs* a) {                              \
    i64 width = a->dv + 1;                                                                   \
    i64 c = t / (a->heads * width), rem = t % (a->heads * width);                            \
    i64 h = rem / width, j = rem % width;                                                    \
    float col[M];                                                                            \
    for (int i = 0; i < M; i++) col[i] = 0;                                                  \
    i64 start = a->chunkStart[c], length = a->chunkLength[c];                                \
    for (i64 r = start; r < start + length; r++) {                                           \
      const float* fk = a->phik + (r * a->heads + h) * M;                                    \
      float vj = j < a->dv ? a->v[r * a->heads * a->dv + h * a->dv + j] : 1.0f;              \
      for (int i = 0; i < M; i++) col[i] += fk[i] * vj;                                      \
    }                                                                                        \
    float* out = a->sums + (c * a->heads + h) * M * width + j;                               \
    for (int i = 0; i < M; i++) out[i * width] = col[i];                                     \
  }
CHUNK_SUMS_BODY(16)
CHUNK_SUMS_BODY(32)
CHUNK_SUMS_BODY(64)

typedef struct {
  i64 threads; // sequences · heads · m · (dv + 1)
  float* sums; // (chunks, heads, m, dv + 1): sums in, exclusive prefixes out
  float* states;
  const int* seqFirstChunk;
  const int* seqChunks;
  const int* seqSlot;
  i64 heads;
  i64 m;
  i64 dv;
  i64 stateStride;
  i64 layerOffset;
} ChunkPrefixArgs;

BODY void chunk_prefix_body(i64 t, const ChunkPrefixArgs* a) {
  i64 perHead = a->m * (a->dv + 1);
  i64 seq = t / (a->heads * perHead), rem = t % (a->heads * perHead); // rem = h·m·(dv+1) + i·(dv+1) + j
  float* s = a->states + (i64) a->seqSlot[seq] * a->stateStride + a->layerOffset + rem;
  float running = *s;
  i64 first = a->seqFirstChunk[seq], count = a->seqChunks[seq];
  for (i64 c = first; c < first + count; c++) {
    float* x = a->sums + c * a->heads * perHead + rem;
    float chunk = *x;
    *x = running;
    running += chunk;
  }
  *s = running;
}

typedef struct {
  i64 threads; // chunks · heads · (dv + 1)
  const float* phiq;
  const float* phik;
  const float* v;
  const float* prefix; // (chunks, heads, m, dv + 1)
  float* num; // (rows·heads, dv + 1)
  const int* chunkStart;
  const int* chunkLength;
  i64 heads;
  i64 m;
  i64 dv;
} ChunkScanArgs;

#define CHUNK_SCAN_BODY(M)                                                                   \
  BODY void chunk_scan_body_##M(i64 t, const ChunkScanArgs* a) {                             \
    i64 width = a->dv + 1;                                                                   \
    i64 c = t / (a->heads * width), rem = t % (a->heads * width);                            \
    i64 h = rem / width, j = rem % width;                                                    \
    const float* p = a->prefix + (c * a->heads + h) * M * width + j;                         \
    float col[M];                                                                            \
    for (int i = 0; i < M; i++) col[i] = p[i * width];                                       \
    i64 start = a->chunkStart[c], length = a->chunkLength[c];                                \
    SCAN_ROWS(M)                                                                             \
  }
CHUNK_SCAN_BODY(16)
CHUNK_SCAN_BODY(32)
CHUNK_SCAN_BODY(64)

// ---- attended[r][h·dv + j] = num[r][h][j] / (num[r][h][dv] + δ)
typedef struct {
  i64 threads; // rows · heads · dv
  const float* num;
  float* out;
  i64 heads;
  i64 dv;
  double delta;
} OutputArgs;

BODY void output_body(i64 t, const OutputArgs* a) {
  i64 dv = a->dv, width = dv + 1;
  i64 rh = t / dv, j = t % dv; // rh = r·heads + h
  const float* n = a->num + rh * width;
  a->out[t] = n[j] / (n[dv] + (float) a->delta);
}

#ifdef __CUDACC__
#define KERNEL(name, Args)                                                     \
  extern "C" __global__ void name(Args a) {                                    \
    i64 t = (i64) blockIdx.x * blockDim.x + threadIdx.x;                      \
    if (t < a.threads) name##_body(t, &a);                                     \
  }
KERNEL(embed, EmbedArgs)
KERNEL(layer_norm, LayerNormArgs)
KERNEL(bias, BiasArgs)
KERNEL(features, FeatureArgs)
KERNEL(output, OutputArgs)
#define SCAN_KERNEL(M)                                                         \
  extern "C" __global__ void scan_##M(ScanArgs a) {                            \
    i64 t = (i64) blockIdx.x * blockDim.x + threadIdx.x;                      \
    if (t < a.threads) scan_body_##M(t, &a);                                   \
  }
SCAN_KERNEL(16)
SCAN_KERNEL(32)
SCAN_KERNEL(64)
KERNEL(chunk_prefix, ChunkPrefixArgs)
#define CHUNK_KERNELS(M)                                                       \
  extern "C" __global__ void chunk_sums_##M(ChunkSumArgs a) {                  \
    i64 t = (i64) blockIdx.x * blockDim.x + threadIdx.x;                      \
    if (t < a.threads) chunk_sums_body_##M(t, &a);                             \
  }                                                                            \
  extern "C" __global__ void chunk_scan_##M(ChunkScanArgs a) {                 \
    i64 t = (i64) blockIdx.x * blockDim.x + threadIdx.x;                      \
    if (t < a.threads) chunk_scan_body_##M(t, &a);                             \
  }
CHUNK_KERNELS(16)
CHUNK_KERNELS(32)
CHUNK_KERNELS(64)
#endif
