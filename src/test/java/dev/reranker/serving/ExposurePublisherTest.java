package dev.reranker.serving;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reranker.experiment.Exposure;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class ExposurePublisherTest {

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private static Exposure exposure(int i) {
    return Exposure.failed("r" + i, "ab", "u" + i, dev.reranker.experiment.ArmChoice.PERFORMER,
        1_000L + i, 1.0, 5);
  }

  private double unpublished() {
    return registry.get("reranker.experiments.exposures.unpublished").counter().count();
  }

  @Test
  void aBlockedProducerNeverBlocksTheCallerAndOverflowIsCounted() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    List<String> sent = new CopyOnWriteArrayList<>();
    ExposurePublisher p = new ExposurePublisher(e -> {
      try {
        release.await(); // the cluster away: every send blocks
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
      }
      sent.add(e.requestId());
      return CompletableFuture.completedFuture(null);
    }, 10, registry);
    long t0 = System.nanoTime();
    for (int i = 0; i < 25; i++) {
      p.accept(exposure(i));
    }
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(1));
    // one is held by the blocked worker, ten wait, the rest are dropped and counted
    assertThat(unpublished()).isBetween(14.0, 15.0);
    release.countDown();
    p.close(Duration.ofSeconds(5));
    assertThat(sent.size() + unpublished()).isEqualTo(25);
    assertThat(sent).startsWith("r0", "r1"); // in order
  }

  @Test
  void failedSendsAreCountedAndCloseDrainsTheQueue() throws Exception {
    List<String> sent = new CopyOnWriteArrayList<>();
    ExposurePublisher p = new ExposurePublisher(e -> {
      if (e.requestId().endsWith("3")) {
        return CompletableFuture.failedFuture(new RuntimeException("refused"));
      }
      if (e.requestId().endsWith("4")) {
        throw new IllegalStateException("producer closed");
      }
      sent.add(e.requestId());
      return CompletableFuture.completedFuture(null);
    }, 1000, registry);
    for (int i = 0; i < 100; i++) {
      p.accept(exposure(i));
    }
    p.close(Duration.ofSeconds(5));
    assertThat(sent).hasSize(80);
    assertThat(unpublished()).isEqualTo(20);
    p.accept(exposure(1000));
    assertThat(unpublished()).as("after close").isEqualTo(21);
    assertThat(registry.get("reranker.experiments.exposures.queued").gauge().value()).isZero();
    assertThat(registry.get("reranker.experiments.exposures.acknowledged").counter().count())
        .isEqualTo(80);
  }

  /** What a crash would lose is what is queued or sent and not yet acknowledged, and no more. */
  @Test
  void exposuresAtRiskAreTheQueuedAndTheUnacknowledged() throws Exception {
    List<CompletableFuture<Object>> pending = new CopyOnWriteArrayList<>();
    ExposurePublisher p = new ExposurePublisher(e -> {
      CompletableFuture<Object> f = new CompletableFuture<>();
      pending.add(f); // sent; the cluster has not answered yet
      return f;
    }, 100, registry);
    for (int i = 0; i < 30; i++) {
      p.accept(exposure(i));
    }
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
        .until(() -> pending.size() == 30);
    var atRisk = registry.get("reranker.experiments.exposures.unacknowledged").gauge();
    assertThat(atRisk.value()).isEqualTo(30);
    for (int i = 0; i < 20; i++) {
      pending.get(i).complete(null);
    }
    pending.get(20).completeExceptionally(new RuntimeException("timed out"));
    assertThat(atRisk.value()).isEqualTo(9);
    assertThat(registry.get("reranker.experiments.exposures.acknowledged").counter().count())
        .isEqualTo(20);
    assertThat(unpublished()).isEqualTo(1);
    pending.subList(21, 30).forEach(f -> f.complete(null));
    assertThat(atRisk.value()).isZero();
    p.close(Duration.ofSeconds(5));
  }
}
