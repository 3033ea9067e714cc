# The service image: the jar built by `./mvnw -B -q package -DskipTests`, on a JDK 25 runtime.
#   docker build -t reranker:dev .
FROM eclipse-temurin:25-jre
WORKDIR /app
COPY target/reranker.jar /app/reranker.jar
COPY config/application.yml /app/config/application.yml
# Kafka Streams state (RocksDB) and, without an external cluster, the in-process broker's logs.
VOLUME /app/data
EXPOSE 8080
# The manifest enables native access; heap and JavaCPP's native budget follow the container's limit.
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=60", "-jar", "/app/reranker.jar", "serve"]
