#!/usr/bin/env bash
# Rebuilds the GPU kernels the jar ships: src/main/cuda/favor_encoder.cu → one fatbin with sm_90
# machine code (Hopper) and compute_90 PTX (later GPUs: the driver compiles it on load), and the
# SHA-256 of the source it came from. Needs nvcc (CUDA 12.x or 13.x); a user's build does not:
# the fatbin is committed, and FatbinTest fails when it is stale against the source.
set -euo pipefail
cd "$(dirname "$0")/.."
NVCC=${NVCC:-nvcc}
SRC=src/main/cuda/favor_encoder.cu
OUT=src/main/resources/gpu/favor_encoder.fatbin
mkdir -p "$(dirname "$OUT")"
"$NVCC" -fatbin -O3 -Xptxas -v \
  -gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90 \
  -o "$OUT" "$SRC" 2>&1 | grep -E "Function properties|registers|spill" | paste - - - | \
  sed -E 's/ptxas info +: //g; s/ +/ /g'
sha256sum "$SRC" | cut -d' ' -f1 > "$OUT.source-sha256"
echo "$OUT: $(stat -c %s "$OUT") bytes, from $SRC $(cat "$OUT.source-sha256") ($("$NVCC" --version | tail -1))"
