package dev.reranker.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The benchmark's log-line counter: messages and exception chains, until detached. */
class LogCounterTest {
  private static final Logger log = LoggerFactory.getLogger("dev.reranker.bench.LogCounterTest");

  @Test
  void countsMessagesAndCausesThatMentionAnyText() {
    RerankBenchmark.LogCounter counter = RerankBenchmark.LogCounter.attach(
        "OUT_OF_ORDER_SEQUENCE_NUMBER", "OutOfOrderSequenceException");
    try {
      log.warn("Got error produce response, retrying. Error: OUT_OF_ORDER_SEQUENCE_NUMBER");
      log.error("Error processing append operation", new IllegalStateException("wrapped",
          new org.apache.kafka.common.errors.OutOfOrderSequenceException("Expected sequence 0")));
      log.warn("Got error produce response, retrying. Error: CONCURRENT_TRANSACTIONS");
      assertThat(counter.count()).isEqualTo(2);
    } finally {
      counter.detach();
    }
    log.warn("Error: OUT_OF_ORDER_SEQUENCE_NUMBER after detaching");
    assertThat(counter.count()).isEqualTo(2);
  }
}
