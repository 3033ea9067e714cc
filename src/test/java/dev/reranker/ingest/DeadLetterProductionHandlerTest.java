package dev.reranker.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.errors.ProductionExceptionHandler.ProductionExceptionHandlerResponse;
import org.junit.jupiter.api.Test;

/** A refused dead-letter record is counted and skipped; a refused changelog record is fatal. */
class DeadLetterProductionHandlerTest {

  @Test
  void deadLettersAreSkippedAndCountedWithTheirReasonAnythingElseFails() {
    IngestMetrics metrics = new IngestMetrics(new SimpleMeterRegistry());
    DeadLetterProductionHandler handler = new DeadLetterProductionHandler();
    handler.configure(IngestTopology.streamsProperties(new IngestSettings("in", "in.dlq", 100,
        java.time.Duration.ofMinutes(5), 1024, 4096, 16, java.time.Duration.ofMillis(50),
        java.util.Set.of()), metrics));
    RecordHeaders headers = new RecordHeaders();
    headers.add(DeadLetterHeaders.REASON_CODE_HEADER, "oversized".getBytes(StandardCharsets.UTF_8));
    ProducerRecord<byte[], byte[]> dead = new ProducerRecord<>("in.dlq", null, null, new byte[1],
        new byte[10], headers);
    assertThat(handler.handle(null, dead, new RecordTooLargeException("too large")))
        .isEqualTo(ProductionExceptionHandlerResponse.CONTINUE);
    assertThat(metrics.deadLetterFailedCount()).isEqualTo(1);

    ProducerRecord<byte[], byte[]> changelog = new ProducerRecord<>(
        "app-user-history-changelog", new byte[1], new byte[10]);
    assertThat(handler.handle(null, changelog, new RecordTooLargeException("too large")))
        .isEqualTo(ProductionExceptionHandlerResponse.FAIL);
    assertThat(metrics.deadLetterFailedCount()).isEqualTo(1);
  }

  @Test
  void theProducersRequestLimitIsReadFromTheStreamsConfig() {
    assertThat(IngestProcessor.maxRequestBytes(Map.of())).isEqualTo(1024 * 1024);
    assertThat(IngestProcessor.maxRequestBytes(Map.of("producer.max.request.size", "100000")))
        .isEqualTo(100_000);
    assertThat(IngestProcessor.maxRequestBytes(Map.of("max.request.size", 2_000_000)))
        .isEqualTo(2_000_000);
  }
}
