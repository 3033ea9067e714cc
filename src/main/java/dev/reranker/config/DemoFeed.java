package dev.reranker.config;

import dev.reranker.data.DataSource;
import dev.reranker.data.Interaction;
import dev.reranker.data.InteractionJson;
import dev.reranker.data.SyntheticGenerator;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;

/**
 * The demo's event stream ({@code reranker.demo.enabled}): the synthetic generator's users and
 * events, stamped with the current time, fed into the interactions topic at a steady rate, round
 * after round, so that the service has live users to rerank for.
 */
@Component
class DemoFeed implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(DemoFeed.class);

  private final RerankerProperties properties;
  private final KafkaTemplate<String, String> kafka;
  private volatile Thread thread;

  DemoFeed(RerankerProperties properties, KafkaTemplate<String, String> kafka) {
    this.properties = properties;
    this.kafka = kafka;
  }

  @Override
  public void start() {
    if (!properties.demo().enabled()) {
      return;
    }
    double rate = properties.demo().eventsPerSecond();
    String topic = properties.ingest().topic();
    thread = new Thread(() -> {
      log.info("demo feed: synthetic events into '{}' at {} events/s", topic, rate);
      long sent = 0;
      long start = System.nanoTime();
      for (int round = 0; !Thread.currentThread().isInterrupted(); round++) {
        SyntheticGenerator g = new SyntheticGenerator(DataSource.syntheticOptions(
            "synthetic:demo:" + (round + 1)));
        for (Interaction e : g.generate()) {
          if (Thread.currentThread().isInterrupted()) {
            return;
          }
          long due = start + (long) (sent / rate * 1e9);
          long wait = due - System.nanoTime();
          if (wait > 0) {
            LockSupport.parkNanos(wait);
          }
          Interaction live = new Interaction(e.userId(), e.itemId(), System.currentTimeMillis(),
              e.eventType(), e.eventId() + "-r" + round);
          kafka.send(topic, live.userId(), InteractionJson.toJson(live));
          sent++;
        }
      }
    }, "demo-feed");
    thread.setDaemon(true);
    thread.start();
  }

  @Override
  public void stop() {
    Thread t = thread;
    if (t != null) {
      t.interrupt();
      thread = null;
    }
  }

  @Override
  public boolean isRunning() {
    return thread != null;
  }
}
