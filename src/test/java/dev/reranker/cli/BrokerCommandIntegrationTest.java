package dev.reranker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reranker.ingest.InProcessKafkaBroker;
import dev.reranker.testing.JarProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code broker} as its own OS process: clients use it, a SIGKILL loses nothing acknowledged, a
 * restart on the same data directory and port serves every record again, SIGTERM stops it.
 */
class BrokerCommandIntegrationTest {

  @TempDir
  Path root;

  @Test
  void aKilledBrokerRestartsOnItsDataDirectoryWithEveryAcknowledgedRecord() throws Exception {
    int port = InProcessKafkaBroker.freePorts(1)[0];
    String servers = "localhost:" + port;
    Path data = root.resolve("kafka");
    String[] args = {"broker", "--port", Integer.toString(port), "--data-dir", data.toString()};
    List<String> jvm = List.of("-Xmx512m");
    try (JarProcess first = JarProcess.start("broker", root.resolve("broker-1.log"), jvm, args)) {
      Duration up = first.awaitLog(BrokerCommand.READY, Duration.ofSeconds(120));
      System.out.println("broker process up in " + up.toMillis() + " ms");
      try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
          servers))) {
        admin.createTopics(List.of(new NewTopic("durable", 2, (short) 1))).all().get();
      }
      try (KafkaProducer<String, String> p = new KafkaProducer<>(Map.of("bootstrap.servers",
          servers, "acks", "all"), new StringSerializer(), new StringSerializer())) {
        for (int i = 0; i < 500; i++) {
          p.send(new ProducerRecord<>("durable", "k" + (i % 7), "v" + i)).get();
        }
      }
      first.kill(); // SIGKILL: no shutdown hook, no flush
      assertThat(first.alive()).isFalse();
    }
    try (JarProcess second = JarProcess.start("broker", root.resolve("broker-2.log"), jvm, args)) {
      Duration up = second.awaitLog(BrokerCommand.READY, Duration.ofSeconds(120));
      System.out.println("broker process restarted after SIGKILL in " + up.toMillis() + " ms");
      List<String> values = new ArrayList<>();
      try (KafkaConsumer<String, String> c = new KafkaConsumer<>(Map.of("bootstrap.servers",
          servers), new StringDeserializer(), new StringDeserializer())) {
        List<TopicPartition> parts = List.of(new TopicPartition("durable", 0),
            new TopicPartition("durable", 1));
        c.assign(parts);
        c.seekToBeginning(parts);
        long deadline = System.currentTimeMillis() + 60_000;
        while (values.size() < 500 && System.currentTimeMillis() < deadline) {
          c.poll(Duration.ofMillis(500)).forEach(r -> values.add(r.value()));
        }
      }
      assertThat(values).hasSize(500).doesNotHaveDuplicates();
      int code = second.terminate(Duration.ofSeconds(60)); // SIGTERM: a clean shutdown
      assertThat(code).as(second.tail()).isIn(0, 143);
    }
  }
}
