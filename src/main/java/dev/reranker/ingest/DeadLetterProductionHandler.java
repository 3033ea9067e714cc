package dev.reranker.ingest;

import dev.reranker.data.Topics;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What Kafka Streams does when the producer refuses a record. A dead-letter record is bounded
 * ({@code IngestProcessor#deadLetter}: below both {@code dlq-max-value-bytes} and the Streams
 * producer's {@code max.request.size}), so the producer has no reason of its own to refuse one. If
 * it still does (a topic whose {@code max.message.bytes} is smaller, a serialisation error), a
 * refused record bound for the dead-letter topic is logged (source topic, partition, offset,
 * reason code), counted ({@code reranker.ingest.dlq.failed{reason, exception}}) and skipped.
 * Anything else refused (a changelog record: a store write that did not reach its changelog)
 * fails as Kafka Streams' default handler does, since continuing would lose state.
 *
 * <p>A limit of Kafka 4.1 under {@code exactly_once_v2}: a record the producer refuses on its own
 * side (too large for {@code max.request.size}) puts the transactional producer into an error
 * state before this handler is asked, so the transaction aborts whatever it answers and the task
 * reprocesses from its last commit. That is why the bound is enforced before the send. A refusal
 * by the broker (per-topic limits) comes back in the callback and is skipped here as described.
 *
 * <p>Configured by {@link IngestTopology#streamsProperties}: the dead-letter topic's name and the
 * metrics object reach it through the Streams configuration map.
 */
public final class DeadLetterProductionHandler implements ProductionExceptionHandler {

  /** Streams config key: the dead-letter topic. */
  static final String DLQ_TOPIC_CONFIG = "reranker.ingest.dlq.topic";
  /** Streams config key: the {@link IngestMetrics} to count in (an object, not a string). */
  static final String METRICS_CONFIG = "reranker.ingest.metrics";

  private static final Logger log = LoggerFactory.getLogger(DeadLetterProductionHandler.class);

  private String dlqTopic;
  private IngestMetrics metrics;

  @Override
  public void configure(Map<String, ?> configs) {
    Object topic = configs.get(DLQ_TOPIC_CONFIG);
    dlqTopic = topic == null ? Topics.DEAD_LETTERS : topic.toString();
    metrics = configs.get(METRICS_CONFIG) instanceof IngestMetrics m ? m : null;
  }

  @Override
  public ProductionExceptionHandlerResponse handle(ErrorHandlerContext context,
      ProducerRecord<byte[], byte[]> record, Exception exception) {
    return decide(context, record, exception);
  }

  @Override
  @SuppressWarnings("rawtypes")
  public ProductionExceptionHandlerResponse handleSerializationException(
      ErrorHandlerContext context, ProducerRecord record, Exception exception,
      SerializationExceptionOrigin origin) {
    return decide(context, record, exception);
  }

  private ProductionExceptionHandlerResponse decide(ErrorHandlerContext context,
      ProducerRecord<?, ?> record, Exception exception) {
    if (record == null || !dlqTopic.equals(record.topic())) {
      log.error("a record for {} could not be produced; stopping as Kafka Streams' default does",
          record == null ? "?" : record.topic(), exception);
      return ProductionExceptionHandlerResponse.FAIL;
    }
    String reason = header(record, DeadLetterHeaders.REASON_CODE_HEADER);
    String name = exception.getClass().getSimpleName();
    if (metrics != null) {
      metrics.deadLetterFailed(reason == null ? "unknown" : reason, name);
    }
    log.warn("dead-letter record refused ({}: {}); skipped and counted. Rejected record: {}-{} "
        + "offset {}, reason {}{}", name, exception.getMessage(),
        context == null ? "?" : context.topic(), context == null ? "?" : context.partition(),
        context == null ? "?" : context.offset(), reason,
        exception instanceof RecordTooLargeException
            ? " (lower reranker.ingest.dlq-max-value-bytes below the producer's max.request.size)"
            : "");
    return ProductionExceptionHandlerResponse.CONTINUE;
  }

  private static String header(ProducerRecord<?, ?> record, String key) {
    if (record.headers() == null) {
      return null;
    }
    Header h = record.headers().lastHeader(key);
    return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }
}
