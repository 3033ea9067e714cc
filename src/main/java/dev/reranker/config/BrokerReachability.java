package dev.reranker.config;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Whether this instance reaches the Kafka cluster: a long-lived admin client asks for the
 * cluster's brokers every {@code check interval}; the cluster counts as unreachable once no check
 * has succeeded for {@code unreachable after} (a few missed checks, so one slow answer does not
 * flap readiness). Kafka Streams does not say this itself: with the broker gone its threads stay
 * RUNNING and retry, so without this the readiness would stay UP through an outage while nothing
 * is ingested.
 *
 * <p>Time comes from a {@code ticker} (nanoseconds) and the check is a {@link BooleanSupplier}, so
 * a test can move both; the service uses {@link System#nanoTime()} and {@link #adminProbe}.
 * Transitions are logged once each (WARN on loss, INFO on return, with the outage's length).
 */
final class BrokerReachability implements SmartLifecycle, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(BrokerReachability.class);

  private final BooleanSupplier probe;
  private final LongSupplier ticker;
  private final Duration interval;
  private final long unreachableAfterNanos;
  private final String servers;
  private final AutoCloseable onClose;
  /** Ticker value of the last successful check; the start counts as one (a grace to connect). */
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicLong lastReachedNanos;
  private final AtomicLong lostAtNanos = new AtomicLong(-1);
  private volatile ScheduledExecutorService scheduler;

  BrokerReachability(BooleanSupplier probe, LongSupplier ticker, Duration interval,
      Duration unreachableAfter, String servers, AutoCloseable onClose) {
    if (interval.isNegative() || interval.isZero() || unreachableAfter.compareTo(interval) < 0) {
      throw new IllegalArgumentException("reranker.kafka.broker-check-interval must be positive "
          + "and at most reranker.kafka.broker-unreachable-after: " + interval + ", "
          + unreachableAfter);
    }
    this.probe = probe;
    this.ticker = ticker;
    this.interval = interval;
    this.unreachableAfterNanos = unreachableAfter.toNanos();
    this.servers = servers;
    this.onClose = onClose;
    this.lastReachedNanos = new AtomicLong(ticker.getAsLong());
  }

  /** Over an admin client built from the application's Kafka settings. */
  static BrokerReachability overAdmin(Map<String, Object> adminConfig, Duration interval,
      Duration unreachableAfter) {
    Map<String, Object> config = new java.util.HashMap<>(adminConfig);
    config.putIfAbsent("client.id", "reranker-broker-check");
    // a dead broker is retried quickly, so its return is noticed within a check or two
    config.put("reconnect.backoff.max.ms", 1000);
    Admin admin = Admin.create(config);
    int timeoutMs = (int) Math.max(500, Math.min(interval.toMillis(), 5_000));
    return new BrokerReachability(adminProbe(admin, timeoutMs), System::nanoTime, interval,
        unreachableAfter, String.valueOf(adminConfig.get("bootstrap.servers")),
        () -> admin.close(Duration.ofSeconds(1)));
  }

  /** True when the cluster answers with at least one broker within the timeout. */
  static BooleanSupplier adminProbe(Admin admin, int timeoutMs) {
    return () -> {
      try {
        return !admin.describeCluster(new DescribeClusterOptions().timeoutMs(timeoutMs)).nodes()
            .get(timeoutMs + 500L, TimeUnit.MILLISECONDS).isEmpty();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      } catch (Exception e) {
        return false;
      }
    };
  }

  /** Runs one check now (the scheduler calls this; tests call it after moving the ticker). */
  void check() {
    long now = ticker.getAsLong();
    if (probe.getAsBoolean()) {
      lastReachedNanos.set(ticker.getAsLong());
      long lost = lostAtNanos.getAndSet(-1);
      if (lost >= 0) {
        log.info("Kafka cluster {} reachable again after {} ms", servers,
            (now - lost) / 1_000_000);
      }
    } else if (!reachable() && lostAtNanos.compareAndSet(-1, lastReachedNanos.get())) {
      log.warn("Kafka cluster {} unreachable for {} ms: ingestion paused, readiness DOWN until it "
          + "answers; requests are served from the cached states", servers,
          (now - lastReachedNanos.get()) / 1_000_000);
    }
  }

  /** True unless no check has reached a broker for longer than the configured limit. */
  boolean reachable() {
    return ticker.getAsLong() - lastReachedNanos.get() <= unreachableAfterNanos;
  }

  /** How long since the last successful check, in milliseconds. */
  long millisSinceReached() {
    return (ticker.getAsLong() - lastReachedNanos.get()) / 1_000_000;
  }

  void bindTo(MeterRegistry registry) {
    Gauge.builder("reranker.kafka.broker.reachable", this, b -> b.reachable() ? 1 : 0)
        .description("1 while this instance reaches the Kafka cluster, 0 once it has not for "
            + "reranker.kafka.broker-unreachable-after")
        .register(registry);
    Gauge.builder("reranker.kafka.broker.unreachable", this, b -> b.millisSinceReached() / 1e3)
        .description("seconds since a broker last answered this instance's check")
        .baseUnit("seconds").register(registry);
  }

  @Override
  public void start() {
    lastReachedNanos.set(ticker.getAsLong());
    ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "broker-check");
      t.setDaemon(true);
      return t;
    });
    s.scheduleWithFixedDelay(this::check, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    scheduler = s;
  }

  @Override
  public void stop() {
    ScheduledExecutorService s = scheduler;
    scheduler = null;
    if (s != null) {
      s.shutdownNow();
    }
  }

  /**
   * Stops checking and closes the admin client. The bean's destroy method: it also runs when the
   * context fails to start, where {@link #stop()} is not called (the client, created with the
   * bean, kept reconnecting to the broker for the life of the JVM).
   */
  @Override
  public void close() {
    stop();
    if (closed.compareAndSet(false, true)) {
      try {
        onClose.close();
      } catch (Exception e) {
        log.debug("closing the broker check's admin client", e);
      }
    }
  }

  @Override
  public boolean isRunning() {
    return scheduler != null;
  }
}
