package dev.reranker.serving;

import dev.reranker.experiment.Exposure;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes exposures off the request threads: {@link #accept} only offers to a bounded queue, and one
 * thread hands them to the producer in order. A request never waits on Kafka — with the cluster
 * away a Kafka 4 producer drops its metadata (it re-bootstraps) and each {@code send} waits up to
 * {@code max.block.ms}; measured in the broker-kill fault test, reranks then took a second each
 * and timed out. While the producer is blocked the queue fills; beyond its capacity exposures
 * are dropped and counted ({@code reranker.experiments.exposures.unpublished}), like the ones the
 * producer gives up on after {@code delivery.timeout.ms}: the reports then miss them, and the
 * counter says how many.
 *
 * <p>{@link #close} (on shutdown, after the web server has drained its requests) hands what is
 * queued to the producer for up to the given time.
 */
public final class ExposurePublisher implements Consumer<Exposure>, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ExposurePublisher.class);

  private final Function<Exposure, CompletableFuture<?>> send;
  private final BlockingQueue<Exposure> queue;
  private final Counter unpublished;
  private final Counter acknowledged;
  /** Handed to the producer, not yet acknowledged by the cluster (nor failed). */
  private final java.util.concurrent.atomic.AtomicLong inFlight =
      new java.util.concurrent.atomic.AtomicLong();
  private final Thread worker;
  private volatile boolean closing;

  /**
   * @param send hands one exposure to the producer (may block, may throw); its future fails when
   *     the record is not written
   * @param capacity exposures held while the producer is blocked
   */
  public ExposurePublisher(Function<Exposure, CompletableFuture<?>> send, int capacity,
      MeterRegistry registry) {
    this.send = send;
    this.queue = new ArrayBlockingQueue<>(capacity);
    this.unpublished = Counter.builder("reranker.experiments.exposures.unpublished")
        .description("exposures not written to the exposures topic (queue full, or the producer"
            + " gave up): missing from every report")
        .register(registry);
    this.acknowledged = Counter.builder("reranker.experiments.exposures.acknowledged")
        .description("exposures the cluster acknowledged (acks=all): in every report")
        .register(registry);
    Gauge.builder("reranker.experiments.exposures.queued", queue, BlockingQueue::size)
        .description("exposures waiting for the producer (grows while the cluster is away)")
        .register(registry);
    Gauge.builder("reranker.experiments.exposures.unacknowledged", this,
            ExposurePublisher::atRisk)
        .description("exposures a crash now would lose: queued, or sent and not yet "
            + "acknowledged")
        .register(registry);
    this.worker = new Thread(this::drain, "exposure-publisher");
    worker.setDaemon(true);
    worker.start();
  }

  @Override
  public void accept(Exposure e) {
    if (closing || !queue.offer(e)) {
      dropped(e, closing ? "shutting down" : "queue full");
    }
  }

  /** Exposures waiting now. */
  public int queued() {
    return queue.size();
  }

  /**
   * What a crash (SIGKILL, the machine gone) at this moment would lose: the queued exposures and
   * those the producer holds unacknowledged. Bounded by the queue's capacity plus what the
   * producer holds (its batches, {@code buffer.memory}); in steady operation it is the traffic of
   * the producer's linger and one acknowledgement round trip, a few milliseconds of requests.
   */
  public long atRisk() {
    return queue.size() + inFlight.get();
  }

  /** Exposures not written so far (queue full, refused, given up, left at shutdown). */
  public long unpublished() {
    return (long) unpublished.count();
  }

  private void drain() {
    while (!closing || !queue.isEmpty()) {
      Exposure e;
      try {
        e = queue.poll(100, TimeUnit.MILLISECONDS);
      } catch (InterruptedException ie) {
        return;
      }
      if (e == null) {
        continue;
      }
      inFlight.incrementAndGet();
      try {
        send.apply(e).whenComplete((r, ex) -> {
          inFlight.decrementAndGet();
          if (ex != null) {
            dropped(e, ex.getMessage());
          } else {
            acknowledged.increment();
          }
        });
      } catch (RuntimeException ex) {
        inFlight.decrementAndGet();
        dropped(e, ex.getMessage());
      }
    }
  }

  private void dropped(Exposure e, String why) {
    // one line per drop would flood the log through an outage: the first few, then every 1000th
    double n = unpublished.count();
    unpublished.increment();
    if (n < 5 || n % 1000 == 0) {
      log.warn("exposure {} not published ({} so far): {}", e.requestId(), (long) n + 1, why);
    }
  }

  /** Publishes what is queued, for up to {@code timeout}; the rest is counted as dropped. */
  public void close(Duration timeout) {
    closing = true;
    try {
      worker.join(timeout.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    worker.interrupt();
    Exposure e;
    while ((e = queue.poll()) != null) {
      dropped(e, "shutting down");
    }
  }

  @Override
  public void close() {
    close(Duration.ofSeconds(5));
  }
}
