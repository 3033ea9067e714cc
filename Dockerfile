# syntax=docker/dockerfile:1
# The service image, built from the source tree alone (no host build first):
#   docker build -t reranker:dev .
# Stage "build": the Maven wrapper on a JDK 25, the dependencies in a layer of their own (rebuilt
# only when pom.xml or the wrapper change; BuildKit's cache keeps ~/.m2 between builds), the jar,
# then the jar laid out for the runtime (scripts/image-layout.sh: third-party jars apart from the
# project's classes; native libraries for linux-x86_64 only, which drops ~250 MB of RocksDB, zstd,
# snappy and lz4 builds for other platforms).
# Stage "runtime": a JRE 25, a non-root user, the layers, config/application.yml.
# No container engine runs in CI: .ci/run lints this file (hadolint where it can be installed) and
# ContainerImageLayoutIntegrationTest runs the build stage's layout script on the built jar,
# assembles /app as the COPY lines below say and starts the ENTRYPOINT + CMD from it.
FROM eclipse-temurin:25-jdk-noble AS build
WORKDIR /src
COPY mvnw pom.xml ./
COPY .mvn .mvn
RUN --mount=type=cache,target=/root/.m2 ./mvnw -B -q dependency:go-offline
COPY src src
RUN --mount=type=cache,target=/root/.m2 ./mvnw -B -q package -Dmaven.test.skip=true
COPY scripts/image-layout.sh scripts/LinuxX8664Natives.java scripts/
RUN scripts/image-layout.sh target/reranker.jar /layers

FROM eclipse-temurin:25-jre-noble AS runtime
RUN groupadd --system --gid 10001 reranker \
    && useradd --system --uid 10001 --gid reranker --home-dir /app --no-create-home reranker
WORKDIR /app
# least-changing first: third-party jars, then the project's own
COPY --from=build /layers/dependencies/ ./
COPY --from=build /layers/snapshot-dependencies/ ./
COPY --from=build /layers/application/ ./
COPY config/application.yml config/application.yml
# /app/data: Kafka Streams state (RocksDB) and, without an external cluster, the in-process
# broker's logs; /app/models: the trained models, mounted read-only (docs/models.md)
RUN mkdir -p /app/data /app/models && chown reranker:reranker /app/data
VOLUME /app/data
USER 10001:10001
EXPOSE 8080
# The jar's manifest enables native access and names lib/*.jar; heap and JavaCPP's native budget
# follow the container's memory limit; the Vector API's module gives the fold its vector kernels (a
# manifest cannot add a module; without it the service runs the scalar reference kernels).
# Other commands: docker run reranker:dev train --help
ENTRYPOINT ["java", "--add-modules=jdk.incubator.vector", "-XX:MaxRAMPercentage=60", "-jar", "/app/reranker.jar"]
CMD ["serve"]
