#!/usr/bin/env bash
# Builds gpu/carry/ (git-ignored) for gpu/device-check.sh: everything the GPU machine needs that
# is not in the working tree, within the device tool's 64 MiB: a jlink'd JDK 25 (java.base), the
# project's classes with the few jars the check touches (no ND4J natives: it loads models with
# ModelArtifacts.loadPlain), and the PyTorch anchor from the shared GPU probe.
#
#   gpu/prepare-device-check.sh              # build (needs JDK 25, target/classes and the jar)
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
# the project's classes and the shipped kernels (the tree carries the models)
(cd target/classes && "$J/bin/jar" --create --file "../../$C/lib/reranker-classes.jar" \
  --no-manifest dev META-INF/LICENSE META-INF/NOTICE gpu)
# the jars it touches, from the service jar (Jackson 3 for model.json; nd4j-api's classes, never
# its natives, for the types the model package names)
JAR=target/reranker.jar
[ -f "$JAR" ] || { echo "build $JAR first: ./mvnw -B package -DskipTests" >&2; exit 1; }
NEEDED=$("$J/bin/jar" --list --file "$JAR" | grep -E \
  '^BOOT-INF/lib/(jackson-(core|databind)-3\.|jackson-annotations-2\.|nd4j-api-)[^/]*\.jar$')
(cd "$C/lib" && "$J/bin/jar" --extract --file "../../../$JAR" $NEEDED && mv BOOT-INF/lib/*.jar . \
  && rm -r BOOT-INF)
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
