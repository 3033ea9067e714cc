#!/usr/bin/env bash
# Converts softmax models to Performers with m = 64, 128, 256 random features (zero-shot and after
# a fine-tune of 10% of each parent's epochs) and prints the table of quality retained: a row per
# parent and m, and per m the mean over parents. One parent's ratio has a standard error of ~0.08
# on ml-latest-small's 610 test users, so judge the mean over several independently trained parents.
# The m = 64 conversion also runs the control (--control: the parent fine-tuned alike, as softmax),
# and every row gives the conversion against it.
# Usage: scripts/convert-table.sh SOFTMAX_MODEL_DIR[,SOFTMAX_MODEL_DIR...] DATA [FORMAT] [OUT_DIR]
#   e.g. scripts/convert-table.sh models/ml-softmax-s1,models/ml-softmax-s2,models/ml-softmax-s3 \
#          ../shared/data/ml-latest-small/ratings.csv
# A conversion whose OUT_DIR/pP/mM/convert.json exists is not run again.
set -euo pipefail
models=${1:?softmax model directories, comma-separated}
data=${2:?data file or synthetic spec}
format=${3:-movielens}
out=${4:-target/convert}
jar=${JAR:-target/reranker.jar}
IFS=, read -ra parents <<< "$models"
for i in "${!parents[@]}"; do
  for m in 64 128 256; do
    dir="$out/p$i/m$m"
    [ -f "$dir/convert.json" ] && continue
    control=(); [ "$m" = 64 ] && control=(--control)
    java -jar "$jar" convert --model "${parents[$i]}" --data "$data" --format "$format" \
      --features "$m" "${control[@]}" --out "$dir"
  done
done
python3 - "$out" "${#parents[@]}" <<'PY'
import json, sys, os
out, parents = sys.argv[1], int(sys.argv[2])
print("| m | parent | softmax NDCG@10 | control: softmax fine-tuned alike (of softmax) "
      "| zero-shot NDCG@10 (of softmax) | fine-tuned NDCG@10 (of softmax) | fine-tuned of control "
      "| fine-tuned − softmax, 95% CI | fine-tune epochs / parent's |")
print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
def load(i, m):
    return json.load(open(os.path.join(out, f"p{i}", f"m{m}", "convert.json")))
for m in (64, 128, 256):
    zs_r, ft_r, fc_r = [], [], []
    for i in range(parents):
        r = load(i, m)
        c = load(i, 64).get("control")
        zs, ft = r["zero_shot"], r["fine_tuned"]
        lo, hi = ft["ndcg_minus_softmax_ci95"]
        zs_r.append(zs["ndcg_retained"]); ft_r.append(ft["ndcg_retained"])
        ctl = f"{c['ndcg@10']:.4f} ({c['ndcg_of_softmax']:.3f})" if c else "—"
        of_ctl = ""
        if c:
            fc_r.append(ft["ndcg@10"] / c["ndcg@10"])
            of_ctl = f"{fc_r[-1]:.3f}"
        print(f"| {m} | `{r['parent']}` | {r['softmax']['ndcg@10']:.4f} | {ctl} "
              f"| {zs['ndcg@10']:.4f} ({zs['ndcg_retained']:.3f}) "
              f"| {ft['ndcg@10']:.4f} ({ft['ndcg_retained']:.3f}) | {of_ctl} "
              f"| {lo:+.4f} … {hi:+.4f} | {ft['epochs']} / {ft['parent_epochs']} |")
    if parents > 1:
        mean_fc = f"**{sum(fc_r) / len(fc_r):.3f}**" if len(fc_r) == parents else ""
        print(f"| {m} | **mean of {parents}** | | | ({sum(zs_r) / parents:.3f}) "
              f"| **({sum(ft_r) / parents:.3f})** | {mean_fc} | | |")
PY
