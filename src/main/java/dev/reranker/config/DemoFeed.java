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
 * after round, so that the service has live users to rerank for. With {@code
 * reranker.demo.requests-per-second} above 0 it also asks this instance's own HTTP API (so the
 * request is forwarded to the user's owner as a client's would be) to rerank for a user just
 * before sending the user's next event: 20 candidates, that event's item among them, in the
 * default experiment. The event then resolves the exposure, so the experiment page fills with
 * both arms' quality and cost. Requests start once the instance is ready; their answers are
 * discarded, failures counted in the log at debug level.
 */
@Component
class DemoFeed implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(DemoFeed.class);

  /** The demo catalogue's items (the synthetic generator's keys, targets and noise). */
  private static final int KEYS = 20;
  private static final int NOISE = 200;
  private static final int CANDIDATES = 20;

  private final RerankerProperties properties;
  private final KafkaTemplate<String, String> kafka;
  private final org.springframework.core.env.Environment environment;
  private final java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder()
      .connectTimeout(java.time.Duration.ofSeconds(2)).build();
  private volatile Thread thread;
  private volatile boolean ready;

  DemoFeed(RerankerProperties properties, KafkaTemplate<String, String> kafka,
      org.springframework.core.env.Environment environment) {
    this.properties = properties;
    this.kafka = kafka;
    this.environment = environment;
  }

  @Override
  public void start() {
    if (!properties.demo().enabled()) {
      return;
    }
    double rate = properties.demo().eventsPerSecond();
    double requestShare = Math.min(1, properties.demo().requestsPerSecond() / rate);
    java.util.SplittableRandom coin = new java.util.SplittableRandom(42);
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
          if (requestShare > 0 && coin.nextDouble() < requestShare) {
            requestBefore(live, coin);
          }
          kafka.send(topic, live.userId(), InteractionJson.toJson(live));
          sent++;
        }
      }
    }, "demo-feed");
    thread.setDaemon(true);
    thread.start();
  }

  /** A rerank for the user, the item of their coming event among 20 candidates (async). */
  private void requestBefore(Interaction next, java.util.SplittableRandom random) {
    String port = environment.getProperty("local.server.port");
    if (port == null || !ready(port)) {
      return;
    }
    java.util.LinkedHashSet<String> candidates = new java.util.LinkedHashSet<>();
    candidates.add(next.itemId());
    while (candidates.size() < CANDIDATES) {
      int kind = random.nextInt(3);
      candidates.add(kind == 0 ? "k" + random.nextInt(KEYS) : kind == 1
          ? "t" + random.nextInt(KEYS) : "n" + random.nextInt(NOISE));
    }
    java.util.List<String> shuffled = new java.util.ArrayList<>(candidates);
    java.util.Collections.shuffle(shuffled, new java.util.Random(random.nextLong()));
    StringBuilder body = new StringBuilder("{\"userId\":\"").append(next.userId())
        .append("\",\"k\":10,\"candidates\":[");
    for (int i = 0; i < shuffled.size(); i++) {
      body.append(i == 0 ? "\"" : ",\"").append(shuffled.get(i)).append('"');
    }
    body.append("]}");
    java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(
        java.net.URI.create("http://localhost:" + port + "/v1/rerank"))
        .timeout(java.time.Duration.ofSeconds(5)).header("Content-Type", "application/json")
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body.toString())).build();
    try {
      // waited for: the exposure is published before the event that resolves it is sent
      java.net.http.HttpResponse<Void> r = http.send(request,
          java.net.http.HttpResponse.BodyHandlers.discarding());
      if (r.statusCode() != 200) {
        log.debug("demo request for {}: HTTP {}", next.userId(), r.statusCode());
      }
    } catch (java.io.IOException e) {
      log.debug("demo request for {} failed: {}", next.userId(), e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Whether this instance's readiness is UP (checked until it first is). */
  private boolean ready(String port) {
    if (ready) {
      return true;
    }
    try {
      java.net.http.HttpResponse<String> r = http.send(java.net.http.HttpRequest.newBuilder(
          java.net.URI.create("http://localhost:" + port + "/actuator/health/readiness"))
          .timeout(java.time.Duration.ofSeconds(2)).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      ready = r.statusCode() == 200 && r.body().contains("UP");
      if (ready) {
        log.info("demo requests: {} rerank requests/s to this instance",
            properties.demo().requestsPerSecond());
      }
    } catch (java.io.IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return ready;
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
