package dev.reranker.examples;

// producer-example: begin
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;
import tools.jackson.databind.json.JsonMapper;

/** Sends interactions to the engine: needs only kafka-clients and a JSON library. */
public final class InteractionProducerExample implements AutoCloseable {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private final KafkaProducer<String, String> producer;
  private final String topic;

  public InteractionProducerExample(String bootstrapServers, String topic) {
    Properties config = new Properties();
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    config.put(ProducerConfig.ACKS_CONFIG, "all");              // durable once acknowledged
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true); // retries keep a user's order
    this.producer = new KafkaProducer<>(config, new StringSerializer(), new StringSerializer());
    this.topic = topic;                                         // "interactions" by default
  }

  /** One interaction. The key is the user id: a user's events stay in one partition, in order. */
  public Future<RecordMetadata> send(String eventId, String userId, String itemId,
      long epochMillis, String eventType) {
    Map<String, Object> event = new LinkedHashMap<>();
    event.put("schemaVersion", 1);
    event.put("eventId", eventId);     // unique per user: a retry or replay of it is dropped
    event.put("userId", userId);
    event.put("itemId", itemId);
    event.put("timestamp", epochMillis);
    event.put("eventType", eventType); // view | click | add_to_cart | purchase | rating
    return producer.send(new ProducerRecord<>(topic, userId, JSON.writeValueAsString(event)));
  }

  @Override
  public void close() {
    producer.close();
  }
}
// producer-example: end
