package dev.reranker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reranker.ingest.InProcessKafkaBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BrokerReachabilityTest {

  private final AtomicLong nanos = new AtomicLong(1_000);
  private final AtomicBoolean up = new AtomicBoolean(true);
  private final BrokerReachability b = new BrokerReachability(up::get, nanos::get,
      Duration.ofSeconds(2), Duration.ofSeconds(6), "test:9092", () -> { });

  private void advance(Duration d) {
    nanos.addAndGet(d.toNanos());
    b.check();
  }

  @Test
  void unreachableOnlyAfterTheLimitWithoutASuccessfulCheck() {
    b.check();
    assertThat(b.reachable()).isTrue();
    up.set(false);
    advance(Duration.ofSeconds(2));
    advance(Duration.ofSeconds(2));
    advance(Duration.ofSeconds(2));
    assertThat(b.reachable()).as("6 s without an answer: still within the limit").isTrue();
    advance(Duration.ofSeconds(2));
    assertThat(b.reachable()).isFalse();
    assertThat(b.millisSinceReached()).isEqualTo(8_000);
    up.set(true);
    advance(Duration.ofSeconds(2));
    assertThat(b.reachable()).isTrue();
    assertThat(b.millisSinceReached()).isZero();
  }

  @Test
  void oneGoodAnswerBetweenFailuresKeepsItReachable() {
    for (int i = 0; i < 10; i++) {
      up.set(i % 3 != 0);
      advance(Duration.ofSeconds(2));
      assertThat(b.reachable()).isTrue();
    }
  }

  @Test
  void refusesAnIntervalLongerThanTheLimit() {
    assertThatThrownBy(() -> new BrokerReachability(() -> true, System::nanoTime,
        Duration.ofSeconds(10), Duration.ofSeconds(5), "x", () -> { }))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("broker-unreachable-after");
  }

  /** The real probe against a real broker, then against its port once the broker is gone. */
  @Test
  void theAdminProbeTellsALiveBrokerFromAStoppedOne(@TempDir Path dir) throws Exception {
    InProcessKafkaBroker broker = InProcessKafkaBroker.start(dir, 0, 0);
    String servers = broker.bootstrapServers();
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", servers,
        "reconnect.backoff.max.ms", 500))) {
      assertThat(BrokerReachability.adminProbe(admin, 2_000).getAsBoolean()).isTrue();
      broker.close();
      assertThat(BrokerReachability.adminProbe(admin, 1_000).getAsBoolean()).isFalse();
    } finally {
      broker.close();
    }
  }
}
