package dev.reranker.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.reranker.data.EventType;
import dev.reranker.data.Interaction;
import dev.reranker.model.Arm;
import dev.reranker.state.CachedState;
import dev.reranker.state.StateKey;
import dev.reranker.state.UserStates;
import dev.reranker.testing.EngineHarness;
import dev.reranker.testing.Seeds;
import dev.reranker.testing.TestModels;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * The probe that found issue 9's first finding, as a test: the real service (real broker, real
 * HTTP), events for a few users produced steadily while eight client threads rerank the same users
 * every few milliseconds in a shadow experiment (both arms' states are caught up by requests while
 * the stream thread folds). When the stream ends, every user's performer state has folded exactly
 * their history and equals its batch encoding, and a stored-state rerank scores exactly like a
 * stateless one with the same history. Before the fix, states ended 10–20% of their events ahead.
 */
class RerankDuringIngestionIntegrationTest {

  static final int USERS = 6;
  static final int EVENTS_PER_USER = 700;
  static final int CLIENTS = 8;

  @TempDir
  static Path root;
  static EngineHarness harness;
  static ConfigurableApplicationContext app;
  static final ObjectMapper json = JsonMapper.builder().build();
  static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    harness = new EngineHarness(root);
    app = harness.startWeb("race", "race", "reranker.serving.deadline=5s",
        "reranker.experiments.definitions[0].id=default",
        "reranker.experiments.definitions[0].weights.performer=50",
        "reranker.experiments.definitions[0].weights.softmax=50",
        "reranker.experiments.definitions[0].shadow=true",
        "reranker.ingest.flush-interval=20ms");
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  static HttpResponse<String> rerank(String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://localhost:"
        + EngineHarness.port(app) + "/v1/rerank")).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void statesFoldEveryEventOnceWhileRequestsRace() throws Exception {
    long seed = Seeds.seed("RerankDuringIngestionIntegrationTest");
    SplittableRandom r = new SplittableRandom(seed);
    List<String> candidates = new ArrayList<>();
    for (int i = 0; i < TestModels.ITEMS; i++) {
      candidates.add("i" + i);
    }
    String candidateJson = json.writeValueAsString(candidates);
    Map<String, List<Interaction>> histories = new LinkedHashMap<>();
    List<Interaction> events = new ArrayList<>();
    long t = System.currentTimeMillis() - 86_400_000L;
    for (int i = 0; i < USERS * EVENTS_PER_USER; i++) {
      String user = "racer-" + (i % USERS);
      t += 1 + r.nextInt(2000);
      Interaction e = new Interaction(user, "i" + r.nextInt(TestModels.ITEMS), t, EventType.VIEW,
          "race-" + i);
      events.add(e);
      histories.computeIfAbsent(user, u -> new ArrayList<>()).add(e);
    }
    AtomicBoolean done = new AtomicBoolean();
    AtomicLong served = new AtomicLong();
    ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
    List<Thread> clients = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      int id = c;
      Thread th = new Thread(() -> {
        SplittableRandom cr = new SplittableRandom(seed + id);
        while (!done.get()) {
          try {
            HttpResponse<String> resp = rerank("{\"userId\":\"racer-" + cr.nextInt(USERS)
                + "\",\"candidates\":" + candidateJson + "}");
            if (resp.statusCode() != 200) {
              errors.add(resp.statusCode() + " " + resp.body());
            }
            served.incrementAndGet();
            Thread.sleep(cr.nextInt(4));
          } catch (Exception e) {
            errors.add(e.toString());
          }
        }
      }, "client-" + c);
      th.start();
      clients.add(th);
    }
    // steady production, in small batches: requests run between the stream thread's folds
    // paced by the clients: each batch waits for a request answered since the one before, so the
    // requests race the ingestion however slow the machine is (140 batches: > 300 requests by
    // construction, not by speed)
    for (int from = 0; from < events.size(); from += 30) {
      long answered = served.get();
      harness.produce("race", events.subList(from, Math.min(events.size(), from + 30)));
      Thread.sleep(5);
      while (served.get() < answered + 3 && errors.isEmpty()) {
        Thread.sleep(1);
      }
    }
    await().atMost(Duration.ofSeconds(120)).until(() ->
        EngineHarness.metrics(app).appliedCount() == events.size());
    Thread.sleep(300); // a few more requests after the last event
    done.set(true);
    for (Thread th : clients) {
      th.join(30_000);
    }
    assertThat(errors).as("request errors").isEmpty();
    assertThat(served.get()).as("requests raced the ingestion").isGreaterThan(300);

    harness.assertStatesEqualBatchEncoding(app, histories); // folded once each, = batch encoding
    UserStates states = EngineHarness.states(app);
    for (Map.Entry<String, List<Interaction>> u : histories.entrySet()) {
      CachedState s = states.cache().getIfPresent(new StateKey(u.getKey(), Arm.PERFORMER));
      assertThat(s.state().position()).as(u.getKey()).isEqualTo(EVENTS_PER_USER);
      // a stored-state request scores exactly like a stateless one with the same history
      StringBuilder history = new StringBuilder("[");
      for (Interaction e : u.getValue()) {
        history.append(history.length() > 1 ? "," : "").append("{\"itemId\":\"")
            .append(e.itemId()).append("\",\"timestamp\":").append(e.timestamp()).append('}');
      }
      JsonNode stored = json.readTree(rerank("{\"userId\":\"" + u.getKey()
          + "\",\"candidates\":" + candidateJson + "}").body());
      JsonNode stateless = json.readTree(rerank("{\"userId\":\"" + u.getKey()
          + "\",\"candidates\":" + candidateJson + ",\"history\":" + history + "]}").body());
      assertThat(stored.get("arm").asString()).isEqualTo(stateless.get("arm").asString());
      assertThat(stored.get("statePosition").asLong()).isEqualTo(EVENTS_PER_USER);
      for (int i = 0; i < candidates.size(); i++) {
        JsonNode a = stored.get("items").get(i);
        JsonNode b = stateless.get("items").get(i);
        assertThat(a.get("itemId").asString()).as("%s rank %d", u.getKey(), i + 1)
            .isEqualTo(b.get("itemId").asString());
        assertThat(Math.abs(a.get("score").asDouble() - b.get("score").asDouble()))
            .isLessThan(1e-4 * Math.max(1, Math.abs(a.get("score").asDouble())));
      }
    }
    System.out.printf("RerankDuringIngestionIntegrationTest: %d events for %d users, %d requests "
        + "served meanwhile (shadow: both arms per request)%n", events.size(), USERS, served.get());
  }
}
