#!/bin/sh
# The service jar laid out as the container image's /app (the Dockerfile's build stage runs this;
# ContainerImageLayoutIntegrationTest runs it on the built jar and starts the result):
#   DEST/dependencies/lib/*.jar    third-party jars (a layer that changes with the POM only),
#                                  native libraries for linux-x86_64 only
#   DEST/application/reranker.jar  the project's classes, its manifest naming lib/*.jar
# Usage: scripts/image-layout.sh target/reranker.jar DEST
set -eu
jar="$1"
dest="$2"
here="$(cd "$(dirname "$0")" && pwd)"
rm -rf "$dest"
java -Djarmode=tools -jar "$jar" extract --layers --destination "$dest"
java "$here/LinuxX8664Natives.java" "$dest"/dependencies/lib/*.jar
