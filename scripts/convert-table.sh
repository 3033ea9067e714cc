#!/usr/bin/env bash
# Converts a softmax model to Performers with m = 64, 128, 256 random features (zero-shot and
# after a fine-tune of 10% of the parent's epochs) and prints the table of quality retained.
# Usage: scripts/convert-table.sh SOFTMAX_MODEL_DIR DATA [FORMAT] [OUT_DIR]
#   e.g. scripts/convert-table.sh models/ml-softmax ../shared/data/ml-latest-small/ratings.csv
set -euo pipefail
model=${1:?softmax model directory}
data=${2:?data file or synthetic spec}
format=${3:-movielens}
out=${4:-target/convert}
jar=${JAR:-target/reranker.jar}
for m in 64 128 256; do
  java -jar "$jar" convert --model "$model" --data "$data" --format "$format" --features "$m" \
    --out "$out/m$m"
done
python3 - "$out" <<'PY'
import json, sys, os
out = sys.argv[1]
print("| m | softmax NDCG@10 | zero-shot NDCG@10 (retained) | fine-tuned NDCG@10 (retained) "
      "| fine-tuned − softmax, 95% CI | fine-tune epochs / parent's |")
print("|---:|---:|---:|---:|---:|---:|")
for m in (64, 128, 256):
    r = json.load(open(os.path.join(out, f"m{m}", "convert.json")))
    zs, ft = r["zero_shot"], r["fine_tuned"]
    lo, hi = ft["ndcg_minus_softmax_ci95"]
    print(f"| {m} | {r['softmax']['ndcg@10']:.4f} | {zs['ndcg@10']:.4f} ({zs['ndcg_retained']:.3f}) "
          f"| {ft['ndcg@10']:.4f} ({ft['ndcg_retained']:.3f}) | {lo:+.4f} … {hi:+.4f} "
          f"| {ft['epochs']} / {ft['parent_epochs']} |")
PY
