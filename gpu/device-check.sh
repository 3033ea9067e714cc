#!/usr/bin/env bash
# The GPU device check, run on a lent GPU machine (the device tool) in one call of ≤ 5 minutes:
#   here:   gpu/prepare-device-check.sh          (builds gpu/carry/, ≈ 48 MB; git-ignored)
#   device: command "bash gpu/device-check.sh", carry ["gpu/carry"], timeout_s 420
# It prints the machine, runs the PyTorch anchor (fold_anchor.py from ../shared/peers/gpu-probe,
# carried) and then dev.reranker.bench.GpuDeviceCheck with the carried JDK, on the machine's own
# libcuda and cuBLAS: GPU = CPU checks (fold 16,384 users × 200 events of the bundled demo model
# and of a default-shape model, fp32 and TF32; cold re-encode 64 × 10,000), fold events/s at
# B = 1 … 65,536 resident and with transfers beside the copy bound and the anchor, encode ms beside
# the anchor. Everything lands in $OUT: env.log anchor.log anchor.json device-check.log
# device-check.json. set -u, no -e: each part runs whatever the previous did.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/reranker-device-check}
mkdir -p "$OUT"
export OUT
C=gpu/carry
if [ ! -x "$C/jdk/bin/java" ]; then
  echo "FAIL gpu/carry is missing: run gpu/prepare-device-check.sh and carry gpu/carry"
  exit 2
fi
{
  date -u
  nvidia-smi 2>&1
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1
  nproc
  grep -m1 'model name' /proc/cpuinfo
  ldconfig -p 2>/dev/null | grep -E 'libcuda\.so|libcublas' || true
} > "$OUT/env.log" 2>&1
head -20 "$OUT/env.log"

# cuBLAS from the machine's CUDA toolkit (13, then 12), else wherever it is
CUBLAS=""
for f in /usr/local/cuda/targets/x86_64-linux/lib/libcublas.so.13 \
    /usr/local/cuda-13*/targets/x86_64-linux/lib/libcublas.so.13 /usr/local/cuda/lib64/libcublas.so.13 \
    /usr/local/cuda-12*/targets/x86_64-linux/lib/libcublas.so.12 /usr/local/cuda/lib64/libcublas.so.12; do
  if [ -f "$f" ]; then CUBLAS=$f; break; fi
done
if [ -z "$CUBLAS" ]; then
  CUBLAS=$(timeout 45 find / -xdev -name 'libcublas.so.1[23]' 2>/dev/null | sort -r | head -1)
fi
echo "cuBLAS: ${CUBLAS:-not found}"
if [ -n "$CUBLAS" ]; then
  export LD_LIBRARY_PATH="$(dirname "$CUBLAS")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

# the anchor first: the Java table prints it beside its own numbers
if [ -f "$C/fold_anchor.py" ]; then
  timeout 150 python3 "$C/fold_anchor.py" > "$OUT/anchor.log" 2>&1
  echo "anchor: rc $? ($(wc -l < "$OUT/anchor.log") log lines)"
else
  echo "anchor: fold_anchor.py was not carried"
fi

timeout 240 "$C/jdk/bin/java" -Xmx48g --enable-native-access=ALL-UNNAMED -cp "$C/lib/*" \
  dev.reranker.bench.GpuDeviceCheck ${CUBLAS:+--cublas-library="$CUBLAS"} \
  --anchor="$OUT/anchor.json" --out="$OUT/device-check.json" --commit="$(cat "$C/COMMIT")" \
  2>&1 | tee "$OUT/device-check.log"
RC=${PIPESTATUS[0]}
echo "device check: rc $RC"
exit "$RC"
