package dev.reranker.cli;

import dev.reranker.data.DataSource;
import dev.reranker.data.Interaction;
import dev.reranker.data.InteractionJson;
import dev.reranker.data.InteractionReaders;
import dev.reranker.data.ReadResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code produce}: streams events into the interactions topic. */
@Command(name = "produce", mixinStandardHelpOptions = true,
    description = "Stream the synthetic generator's events, or a JSONL file of events, into the "
        + "interactions topic (key = userId, value = the JSON event).")
final class ProduceCommand implements Callable<Integer> {

  @Option(names = "--bootstrap-servers", required = true, description = "Kafka bootstrap servers.")
  String bootstrapServers;

  @Option(names = "--topic", defaultValue = dev.reranker.data.Topics.INTERACTIONS,
      description = "Topic (default: ${DEFAULT-VALUE}).")
  String topic;

  @Option(names = "--data", defaultValue = "synthetic:demo",
      description = "synthetic:small|demo|long-range|recurrence[:seed], or a JSONL file (default: ${DEFAULT-VALUE}).")
  String data;

  @Option(names = "--rate", defaultValue = "0",
      description = "Events per second, 0 for as fast as possible (default: ${DEFAULT-VALUE}).")
  double rate;

  @Option(names = "--limit", defaultValue = "0",
      description = "Stop after this many events, 0 for all (default: ${DEFAULT-VALUE}).")
  long limit;

  @Override
  public Integer call() throws Exception {
    long[] sent = {0};
    long start = System.nanoTime();
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.LINGER_MS_CONFIG, 5),
        new StringSerializer(), new ByteArraySerializer())) {
      Consumer<Interaction> send = e -> {
        if (limit > 0 && sent[0] >= limit) {
          return;
        }
        if (rate > 0) {
          long due = start + (long) (sent[0] / rate * 1e9);
          long wait = due - System.nanoTime();
          if (wait > 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(wait);
          }
        }
        producer.send(new ProducerRecord<>(topic, e.userId(),
            InteractionJson.toJson(e).getBytes(StandardCharsets.UTF_8)));
        sent[0]++;
      };
      if (data.startsWith("synthetic:")) {
        DataSource.generateSynthetic(data, send);
      } else {
        ReadResult r = InteractionReaders.read(Path.of(data), InteractionReaders.Format.JSONL);
        System.out.println(r.summary());
        r.interactions().forEach(send);
      }
      producer.flush();
    }
    System.out.printf("produced %,d events to %s in %.1f s%n", sent[0], topic,
        (System.nanoTime() - start) / 1e9);
    return 0;
  }
}
