#!/usr/bin/env bash
# FAVOR+ and exact softmax attention, this engine against the PyTorch peer (DJL 0.36 + PyTorch
# 2.7.1 CPU, ../shared/peers/djl-peer: the same math, d 64 = 2 heads × 32, m 64), one after the
# other on this machine, and the side-by-side table. These VMs differ 2–5× from day to day: only
# numbers from one run of this script compare.
#
#   scripts/attention-vs-peer.sh [lengths]      default 256,1024,4096,16384
# Needs the service jar (./mvnw -B package -DskipTests) and python3; builds the peer in
# target/djl-peer (Maven Central: DJL and libtorch, ≈ 120 MB, once) without writing to the peer.
set -euo pipefail
cd "$(dirname "$0")/.."
LENGTHS=${1:-256,1024,4096,16384}
PEER=${DJL_PEER:-../shared/peers/djl-peer}
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
[ -f target/reranker.jar ] || { echo "build target/reranker.jar first: ./mvnw -B package -DskipTests" >&2; exit 1; }
[ -f "$PEER/pom.xml" ] || { echo "no peer at $PEER (set DJL_PEER)" >&2; exit 1; }
W=target/djl-peer
if [ ! -f "$W/target/djl-peer.jar" ]; then
  rm -rf "$W" && mkdir -p "$W" && cp -r "$PEER/pom.xml" "$PEER/src" "$W/"
  ./mvnw -B -q -f "$W/pom.xml" package -DskipTests
fi
echo "peer: PyTorch via DJL ($W/target/djl-peer.jar)"
"$JAVA" -XX:+UseParallelGC -jar "$W/target/djl-peer.jar" attention --lengths "$LENGTHS" \
  --out target/peer-attention.json > target/peer-attention.log 2>&1
echo "this engine: bench attention"
"$JAVA" --add-modules=jdk.incubator.vector -jar target/reranker.jar bench attention \
  --lengths "$LENGTHS" --dim 64 --heads 2 \
  --features 64 --out target/bench-attention.json > target/bench-attention.log 2>&1
python3 - target/peer-attention.json target/bench-attention.json <<'PY'
import json, sys
peer = {r["length"]: r for r in json.load(open(sys.argv[1]))["results"]}
ours = json.load(open(sys.argv[2]))
print(f"machine: {ours.get('machine', {}).get('cpu_model', '?')}, "
      f"{ours.get('machine', {}).get('cores', '?')} cores; commit {ours.get('machine', {}).get('git_commit', '?')}")
# (this engine's key, the peer's key, title): the peer's one FAVOR+ encode against both of ours,
# the batched ND4J one and the one stepped on plain arrays in vector lanes
cols = [("favor_encode_ms", "favor_encode_ms", "FAVOR+ encode ms"),
        ("favor_plain_encode_ms", "favor_encode_ms", "FAVOR+ encode on plain arrays ms"),
        ("softmax_encode_ms", "softmax_encode_ms", "softmax encode ms"),
        ("softmax_plain_encode_ms", "softmax_encode_ms", "softmax encode on plain arrays ms"),
        ("favor_step_us", "favor_step_us", "FAVOR+ step µs"),
        ("softmax_step_us", "softmax_step_us", "softmax step µs")]
print("| length | " + " | ".join(f"{t}, peer / this (peer ÷ this)" for _, _, t in cols) + " |")
print("|---:|" + "---|" * len(cols))
for r in ours["results"]:
    p = peer.get(r["length"])
    if p is None:
        continue
    cells = [f"{p[pk]:.3g} / {r[k]:.3g} ({p[pk] / r[k]:.2f}×)" for k, pk, _ in cols if k in r]
    print(f"| {r['length']:,} | " + " | ".join(cells) + " |")
print("(peer ÷ this above 1: this engine is faster)")
PY
