#!/usr/bin/env bash
# Builds gpu/carry/ (git-ignored) for gpu/device-check.sh: everything the GPU machine needs that
# is not in the working tree, within the device tool's 64 MiB: a jlink'd JDK 25 (java.base), the
# project's classes with the few jars the check touches (no ND4J natives: it loads models with
# ModelArtifacts.loadPlain), and the PyTorch anchor from the shared GPU probe.
#
#   gpu/prepare-device-check.sh              # build (needs JDK 25 and a packaged target/classes)
#   gpu/prepare-device-check.sh --emulate    # then run the check here, quick sizes, on the host
#                                            # emulation of libcuda/cuBLAS (a harness check only)
set -euo pipefail
cd "$(dirname "$0")/.."
J=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
C=gpu/carry
rm -rf "$C" && mkdir -p "$C/lib"
"$J/bin/jlink" --add-modules java.base --strip-debug --no-man-pages --no-header-files \
  --compress=zip-9 --output "$C/jdk"
strip --strip-unneeded "$C/jdk/lib/server/libjvm.so" 2>/dev/null || true
# the project's classes, without the bundled demo models' duplicates of what the tree carries
(cd target/classes && "$J/bin/jar" --create --file "../../$C/lib/reranker-classes.jar" \
  --no-manifest dev META-INF/LICENSE META-INF/NOTICE gpu)
M2=${MAVEN_REPO:-$HOME/.m2/repository}
./mvnw -B -q -o dependency:build-classpath -Dmdep.outputFile="$C/classpath.txt" >/dev/null
for jar in $(tr ':' '\n' < "$C/classpath.txt" | grep -E \
    '/tools/jackson/core/jackson-(core|databind)/|/com/fasterxml/jackson/core/jackson-annotations/|/org/nd4j/nd4j-api/'); do
  cp "$jar" "$C/lib/"
done
rm "$C/classpath.txt"
PROBE=${GPU_PROBE:-../shared/peers/gpu-probe}
if [ -f "$PROBE/fold_anchor.py" ]; then
  cp "$PROBE/fold_anchor.py" "$C/fold_anchor.py"
else
  echo "note: $PROBE/fold_anchor.py not found: the device check will run without the anchor" >&2
fi
git rev-parse --short HEAD > "$C/COMMIT" 2>/dev/null || echo unknown > "$C/COMMIT"
du -sh "$C" "$C"/* | sed 's/^/  /'
TREE=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
echo "carry: $(du -sb "$C" | cut -f1) bytes; tracked tree: $TREE bytes; the device tool takes 64 MiB in all"

if [ "${1:-}" = "--emulate" ]; then
  mkdir -p target/cuda-emulation
  cc -O2 -std=c11 -shared -fPIC -o target/cuda-emulation/libcudaemu.so src/test/c/cuda_emulation.c -lm
  EMU=$PWD/target/cuda-emulation/libcudaemu.so
  "$C/jdk/bin/java" --enable-native-access=ALL-UNNAMED -cp "$C/lib/*" \
    dev.reranker.bench.GpuDeviceCheck --quick --cuda-library="$EMU" --cublas-library="$EMU" \
    --commit="$(cat "$C/COMMIT")" --out=target/device-check-emulated.json
fi
