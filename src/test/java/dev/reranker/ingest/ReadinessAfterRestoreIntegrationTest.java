package dev.reranker.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.reranker.data.Interaction;
import dev.reranker.data.Topics;
import dev.reranker.testing.EngineHarness;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Readiness tells the truth after a restart that must restore its stores (issue 9, finding 6): an
 * instance whose local state is gone restarts and restores its changelogs, and readiness must stay
 * DOWN until every user's history is back.
 * The start-up timeline (context up, Streams RUNNING, restoration done, readiness UP) is measured
 * and printed.
 */
class ReadinessAfterRestoreIntegrationTest extends dev.reranker.testing.BrokerTest {

  static int complete(HistoryStore history, Map<String, List<Interaction>> expected) {
    int complete = 0;
    for (Map.Entry<String, List<Interaction>> u : expected.entrySet()) {
      if (history.extent(u.getKey()).next() == u.getValue().size()) {
        complete++;
      }
    }
    return complete;
  }

  /** Users complete now, as a readiness of "Streams RUNNING" alone (the old one) would serve. */
  static int completeNow(KafkaStreams streams, Map<String, List<Interaction>> expected) {
    try {
      return complete(HistoryStore.readOnly(streams.store(StoreQueryParameters.fromNameAndType(
          Topics.HISTORY_STORE, QueryableStoreTypes.<org.apache.kafka.common.utils.Bytes,
              byte[]>keyValueStore()).enableStaleStores())), expected);
    } catch (org.apache.kafka.streams.errors.InvalidStateStoreException e) {
      return 0; // not even queryable yet
    }
  }

  @Test
  void readinessWaitsUntilEveryHistoryIsRestored() throws Exception {
    int users = 500;
    int count = 150_000;
    List<Interaction> events = IngestIntegrationTest.events("r", count, users, 5);
    Map<String, List<Interaction>> expected = IngestIntegrationTest.byUser(events);
    // a short session timeout: the restart need not wait 45 s for the stopped member to expire
    String session = "spring.kafka.streams.properties.session.timeout.ms=6000";
    ConfigurableApplicationContext first = harness.startWeb("restore", "restore", session);
    harness.produce("restore", events);
    await().atMost(Duration.ofSeconds(300)).until(() ->
        EngineHarness.metrics(first).appliedCount() == events.size());
    harness.stop(first);
    harness.wipeState("restore"); // a lost disk: everything comes back from the changelogs

    long t0 = System.nanoTime();
    ConfigurableApplicationContext second = harness.startWebNoWait("restore", "restore", session);
    long contextUp = System.nanoTime();
    KafkaStreams streams = EngineHarness.streams(second);
    RestorationTracker restoration = second.getBean(RestorationTracker.class);
    HttpClient http = HttpClient.newHttpClient();
    URI readiness = URI.create("http://localhost:" + EngineHarness.port(second)
        + "/actuator/health/readiness");
    long running = -1;
    int completeAtRunning = -1;
    long restored = -1;
    long ready = -1;
    int downWhileRunning = 0;
    long deadline = System.nanoTime() + 180_000_000_000L;
    while (System.nanoTime() < deadline) {
      if (running < 0 && streams.state() == KafkaStreams.State.RUNNING) {
        running = System.nanoTime();
        completeAtRunning = completeNow(streams, expected);
      }
      if (restored < 0 && restoration.completedRestorations() > 0
          && restoration.restoring() == 0) {
        restored = System.nanoTime();
      }
      int status = http.send(HttpRequest.newBuilder(readiness).GET().build(),
          HttpResponse.BodyHandlers.discarding()).statusCode();
      if (status == 200) {
        ready = System.nanoTime();
        if (running < 0) { // RUNNING between the state check and this answer
          running = ready;
          completeAtRunning = completeNow(streams, expected);
        }
        break;
      }
      if (running > 0) {
        downWhileRunning++;
      }
      Thread.sleep(5);
    }
    assertThat(ready).as("readiness came UP").isPositive();
    // the moment readiness says UP, every user's whole history is readable
    HistoryStore history = HistoryStore.readOnly(streams.store(StoreQueryParameters
        .fromNameAndType(Topics.HISTORY_STORE, QueryableStoreTypes.keyValueStore())));
    assertThat(complete(history, expected)).as("users with their whole history at readiness")
        .isEqualTo(users);
    assertThat(restoration.restoredRecords()).isPositive();
    System.out.printf("ReadinessAfterRestoreIntegrationTest (%,d events, %d users, local state "
            + "wiped, %,d changelog records restored), ms after start: context up %.0f, Streams "
            + "RUNNING %.0f (users complete then: %d of %d), restoration from %.0f to %.0f, "
            + "readiness UP %.0f; readiness answered DOWN %d times while Streams was RUNNING%n",
        count, users, restoration.restoredRecords(), (contextUp - t0) / 1e6,
        (running - t0) / 1e6, completeAtRunning, users,
        (restoration.firstStartNanos() - t0) / 1e6, (restoration.lastEndNanos() - t0) / 1e6,
        (ready - t0) / 1e6, downWhileRunning);
    harness.stop(second);
  }

  @Test
  void readinessIsDownWhileAStoreIsBeingRestored() throws Exception {
    // a restoration starting on a running instance (a partition moving here in a rebalance) takes
    // readiness down until it ends, whatever the Streams client's state says
    ConfigurableApplicationContext app = harness.startWeb("moving", "moving");
    HttpClient http = HttpClient.newHttpClient();
    URI readiness = URI.create("http://localhost:" + EngineHarness.port(app)
        + "/actuator/health/readiness");
    await().atMost(Duration.ofSeconds(30)).until(() -> http.send(HttpRequest.newBuilder(readiness)
        .GET().build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
    RestorationTracker restoration = app.getBean(RestorationTracker.class);
    org.apache.kafka.common.TopicPartition changelog = new org.apache.kafka.common.TopicPartition(
        "moving-user-history-changelog", 3);
    restoration.onRestoreStart(changelog, Topics.HISTORY_STORE, 0, 5_000);
    assertThat(EngineHarness.streams(app).state()).isEqualTo(KafkaStreams.State.RUNNING);
    assertThat(http.send(HttpRequest.newBuilder(readiness).GET().build(),
        HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(503);
    restoration.onRestoreEnd(changelog, Topics.HISTORY_STORE, 5_000);
    assertThat(http.send(HttpRequest.newBuilder(readiness).GET().build(),
        HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(200);
    harness.stop(app);
  }

  @Test
  void livenessGoesDownWhenTheStreamsClientDies() throws Exception {
    ConfigurableApplicationContext app = harness.startWeb("dies", "dies");
    HttpClient http = HttpClient.newHttpClient();
    String base = "http://localhost:" + EngineHarness.port(app) + "/actuator/health/";
    assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "liveness")).GET().build(),
        HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(200);
    EngineHarness.streams(app).close(Duration.ofSeconds(30)); // the client is gone, the app runs
    await().atMost(Duration.ofSeconds(10)).until(() -> http.send(HttpRequest.newBuilder(
        URI.create(base + "liveness")).GET().build(), HttpResponse.BodyHandlers.discarding())
        .statusCode() == 503);
    assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "readiness")).GET().build(),
        HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(503);
    harness.stop(app);
  }
}
