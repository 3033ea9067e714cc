package dev.reranker.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.reranker.data.EventType;
import dev.reranker.data.Interaction;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.testing.EngineHarness;
import dev.reranker.testing.TestModels;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * Issue 5 through a real broker and real HTTP: events in, rerank out, equal to scoring the
 * batch-encoded history offline; scores move with a new event; cold start, unknown items, deadline
 * degradation, model activation and rollback, admin security; and a suite of malformed requests
 * that each get their 4xx problem while the service keeps serving.
 */
class RerankApiIntegrationTest {

  @TempDir
  static Path root;
  static EngineHarness harness;
  static ConfigurableApplicationContext app;
  static final HttpClient http = HttpClient.newHttpClient();
  static final ObjectMapper json = JsonMapper.builder().build();
  static String base;
  static final Map<String, List<Interaction>> histories = new HashMap<>();
  static long clock = System.currentTimeMillis() - 3_600_000L;

  @BeforeAll
  static void start() throws Exception {
    harness = new EngineHarness(root);
    app = harness.startWeb("api", "api", "reranker.serving.deadline=5s");
    base = "http://localhost:" + EngineHarness.port(app);
    List<Interaction> events = new ArrayList<>();
    SplittableRandom r = new SplittableRandom(4);
    for (String user : List.of("alice", "bob", "carol")) {
      for (int i = 0; i < 30; i++) {
        events.add(event(user, "i" + r.nextInt(TestModels.ITEMS)));
      }
    }
    for (int i = 0; i < 3000; i++) { // a long history, for the deadline test
      events.add(event("dave", "i" + r.nextInt(TestModels.ITEMS)));
    }
    produce(events);
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  static Interaction event(String user, String item) {
    clock += 1000;
    Interaction e = new Interaction(user, item, clock, EventType.VIEW, "ev-" + clock + "-" + user);
    histories.computeIfAbsent(user, u -> new ArrayList<>()).add(e);
    return e;
  }

  static void produce(List<Interaction> events) {
    long before = EngineHarness.metrics(app).appliedCount();
    harness.produce("api", events);
    await().atMost(Duration.ofSeconds(120)).until(() ->
        EngineHarness.metrics(app).appliedCount() >= before + events.size());
  }

  static HttpResponse<String> post(String path, String body, String... headers)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> request(String method, String path, String contentType, String body,
      String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).method(method,
        body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static JsonNode rerank(String user, List<String> candidates) throws Exception {
    HttpResponse<String> r = post("/v1/rerank", json.writeValueAsString(Map.of("userId", user,
        "candidates", candidates)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return json.readTree(r.body());
  }

  static ModelArtifacts.TrainedModel model(String arm, String version) {
    for (ModelArtifacts.TrainedModel m : List.of(harness.performer, harness.softmax,
        harness.performer2)) {
      if (m.version().equals(version)) {
        return m;
      }
    }
    throw new AssertionError("no model " + version + " for arm " + arm);
  }

  @Test
  void servedOrderEqualsOfflineScoringAndMovesWithANewEvent() throws Exception {
    List<String> candidates = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      candidates.add("i" + (i * 5));
    }
    candidates.add("not-in-the-model");
    JsonNode first = rerank("alice", candidates);
    String version = first.get("modelVersion").asString();
    ModelArtifacts.TrainedModel m = model(first.get("arm").asString(), version);
    List<Interaction> h = histories.get("alice");
    float[] user = TestModels.batchUserVector(m, h.stream().map(Interaction::itemId).toList(),
        h.stream().map(Interaction::timestamp).toList());
    assertThat(first.get("statePosition").asLong()).isEqualTo(h.size());
    assertExpectedOrder(first, m, user, candidates);
    // the unknown item comes last, flagged
    JsonNode items = first.get("items");
    assertThat(items.get(items.size() - 1).get("itemId").asString()).isEqualTo("not-in-the-model");
    assertThat(items.get(items.size() - 1).get("fallback").asBoolean()).isTrue();

    // a new event: the state catches up and the scores move
    produce(List.of(event("alice", "i7")));
    JsonNode second = rerank("alice", candidates);
    assertThat(second.get("statePosition").asLong()).isEqualTo(h.size());
    float[] after = TestModels.batchUserVector(m, h.stream().map(Interaction::itemId).toList(),
        h.stream().map(Interaction::timestamp).toList());
    assertExpectedOrder(second, m, after, candidates);
    double moved = 0;
    for (int i = 0; i < 12; i++) {
      moved = Math.max(moved, Math.abs(score(first, "i" + i * 5) - score(second, "i" + i * 5)));
    }
    assertThat(moved).isGreaterThan(1e-4);

    // the debugging view of the state
    HttpResponse<String> state = request("GET", "/v1/users/alice/state", null, null,
        "X-Api-Key", EngineHarness.ADMIN_KEY);
    assertThat(state.statusCode()).isEqualTo(200);
    JsonNode s = json.readTree(state.body());
    assertThat(s.get("arms").get(0).get("position").asLong()).isEqualTo(h.size());
    assertThat(s.get("arms").get(0).get("bytes").asLong()).isPositive();
  }

  private static double score(JsonNode response, String item) {
    for (JsonNode i : response.get("items")) {
      if (i.get("itemId").asString().equals(item)) {
        return i.get("score").asDouble();
      }
    }
    throw new AssertionError(item + " not served");
  }

  private static void assertExpectedOrder(JsonNode response, ModelArtifacts.TrainedModel m,
      float[] user, List<String> candidates) {
    List<String> known = candidates.stream().filter(c -> m.items().indexOf(c) >= 0)
        .sorted((a, b) -> Double.compare(m.plainWeights().score(user, m.items().indexOf(b)),
            m.plainWeights().score(user, m.items().indexOf(a)))).toList();
    JsonNode items = response.get("items");
    for (int i = 0; i < known.size(); i++) {
      assertThat(items.get(i).get("itemId").asString()).as("rank %d", i + 1)
          .isEqualTo(known.get(i));
      assertThat(items.get(i).get("score").asDouble()).isCloseTo(
          m.plainWeights().score(user, m.items().indexOf(known.get(i))),
          org.assertj.core.data.Offset.offset(1e-3));
      assertThat(items.get(i).get("rank").asInt()).isEqualTo(i + 1);
    }
  }

  @Test
  void coldStartAndStatelessRequests() throws Exception {
    JsonNode cold = rerank("nobody-yet", List.of("i1", "i2", "i3"));
    assertThat(cold.get("coldStart").asBoolean()).isTrue();
    assertThat(cold.get("items")).allMatch(i -> i.get("fallback").asBoolean());
    // a stateless call brings its own history: the same order as the stored one gives
    List<Interaction> h = histories.get("bob");
    List<Map<String, Object>> inline = h.stream().map(e -> Map.<String, Object>of("itemId",
        e.itemId(), "timestamp", e.timestamp())).toList();
    HttpResponse<String> r = post("/v1/rerank", json.writeValueAsString(Map.of("userId", "bob",
        "candidates", List.of("i1", "i2", "i3", "i4"), "history", inline)));
    JsonNode stateless = json.readTree(r.body());
    JsonNode stored = rerank("bob", List.of("i1", "i2", "i3", "i4"));
    assertThat(stateless.get("arm").asString()).isEqualTo(stored.get("arm").asString());
    for (int i = 0; i < 4; i++) {
      assertThat(stateless.get("items").get(i).get("itemId").asString())
          .isEqualTo(stored.get("items").get(i).get("itemId").asString());
    }
  }

  @Test
  void pastTheDeadlineTheFallbackOrderIsServedDegraded() throws Exception {
    EngineHarness.states(app).cache().invalidateAll(); // dave's 3,000 events must be re-encoded
    // every state worker busy until the request has timed out: its rebuild cannot finish within
    // the deadline however fast this machine is
    java.util.concurrent.ExecutorService workers = app.getBean("rerankWorkers",
        java.util.concurrent.ExecutorService.class);
    int threads = app.getBean(dev.reranker.config.RerankerProperties.class).serving()
        .workerThreads();
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch busy = new java.util.concurrent.CountDownLatch(threads);
    for (int i = 0; i < threads; i++) {
      workers.submit(() -> {
        busy.countDown();
        release.await();
        return null;
      });
    }
    HttpResponse<String> r;
    try {
      assertThat(busy.await(10, TimeUnit.SECONDS)).isTrue();
      r = post("/v1/rerank", json.writeValueAsString(Map.of("userId", "dave",
          "candidates", List.of("i1", "i2", "i3"))), "X-Deadline-Ms", "20");
    } finally {
      release.countDown();
    }
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode degraded = json.readTree(r.body());
    assertThat(degraded.get("degraded").asBoolean()).isTrue();
    assertThat(degraded.hasNonNull("modelVersion")).isFalse();
    for (JsonNode item : degraded.get("items")) {
      assertThat(item.get("fallback").asBoolean()).isTrue();
    }
    // the rebuild finished in the background: the next request is served from the state
    await().atMost(Duration.ofSeconds(30)).until(() -> !rerank("dave", List.of("i1", "i2"))
        .get("degraded").asBoolean());
  }

  @Test
  void modelsActivateAndRollBackAndAdminNeedsTheKey() throws Exception {
    assertThat(request("GET", "/admin/models", null, null).statusCode()).isEqualTo(401);
    assertThat(request("GET", "/admin/models", null, null, "X-Api-Key", "wrong").statusCode())
        .isEqualTo(401);
    HttpResponse<String> models = request("GET", "/admin/models", null, null, "Authorization",
        "Bearer " + EngineHarness.ADMIN_KEY);
    assertThat(models.statusCode()).isEqualTo(200);
    assertThat(models.body()).contains(harness.performer2.version());
    // everyone to the performer arm
    HttpResponse<String> put = request("PUT", "/admin/experiments/default", "application/json",
        "{\"weights\":{\"performer\":100}}", "X-Api-Key", EngineHarness.ADMIN_KEY);
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
    String old = rerank("carol", List.of("i1", "i2")).get("modelVersion").asString();
    assertThat(old).isEqualTo(harness.performer.version());

    HttpResponse<String> activated = request("POST", "/admin/models/"
        + harness.performer2.version() + "/activate", null, null, "X-Api-Key",
        EngineHarness.ADMIN_KEY);
    assertThat(activated.statusCode()).as(activated.body()).isEqualTo(200);
    JsonNode now = rerank("carol", List.of("i1", "i2"));
    assertThat(now.get("modelVersion").asString()).isEqualTo(harness.performer2.version());
    assertThat(now.get("statePosition").asLong()).isEqualTo(histories.get("carol").size());

    // rollback
    assertThat(request("POST", "/admin/models/" + harness.performer.version() + "/activate", null,
        null, "X-Api-Key", EngineHarness.ADMIN_KEY).statusCode()).isEqualTo(200);
    assertThat(rerank("carol", List.of("i1", "i2")).get("modelVersion").asString())
        .isEqualTo(harness.performer.version());
    // restore the shared weights, and check that it took: later tests assume 50/50
    HttpResponse<String> restored = request("PUT", "/admin/experiments/default",
        "application/json", "{\"weights\":{\"performer\":50,\"softmax\":50}}", "X-Api-Key",
        EngineHarness.ADMIN_KEY);
    assertThat(restored.statusCode()).as(restored.body()).isEqualTo(200);
    JsonNode weights = json.readTree(restored.body()).get("weights");
    assertThat(weights.get("performer").asDouble()).isEqualTo(50.0);
    assertThat(weights.get("softmax").asDouble()).isEqualTo(50.0);

    // public operational endpoints
    assertThat(request("GET", "/actuator/health/readiness", null, null).statusCode())
        .isEqualTo(200);
    assertThat(request("GET", "/actuator/prometheus", null, null).body())
        .contains("reranker_rerank_seconds");
    assertThat(request("GET", "/actuator/metrics", null, null).statusCode()).isEqualTo(401);
    String docs = request("GET", "/v3/api-docs", null, null).body();
    assertThat(docs).contains("/v1/rerank").doesNotContain("transport-probe")
        .doesNotContain("\"/error\"").doesNotContain("/internal/");
    JsonNode openApi = json.readTree(docs);
    assertThat(openApi.get("info").get("title").asString()).isEqualTo("reranker");
    assertThat(openApi.get("info").get("description").asString()).contains("Performer");
    assertThat(openApi.get("components").get("securitySchemes").get("adminApiKey").get("name")
        .asString()).isEqualTo("X-Api-Key");
    // the admin operations carry the key's scheme (Swagger UI's Authorize button); rerank not
    assertThat(openApi.get("paths").get("/admin/models").get("get").get("security").toString())
        .contains("adminApiKey");
    assertThat(openApi.get("paths").get("/v1/rerank").get("post").has("security")).isFalse();
    // the benchmark's transport probe is off unless configured
    assertThat(post("/v1/transport-probe", "{\"userId\":\"u\",\"candidates\":[\"i1\"]}")
        .statusCode()).isEqualTo(404);
  }

  /** One malformed request and the status it must get. */
  record Bad(String name, String method, String path, String contentType, String body, int status,
      String field, String... headers) {}

  @Test
  void everyMalformedRequestGetsItsProblemAndTheServiceKeepsServing() throws Exception {
    String many = "[" + "\"x\",".repeat(0) + String.join(",", java.util.stream.IntStream
        .range(0, 10_001).mapToObj(i -> "\"c" + i + "\"").toList()) + "]";
    String longId = "u".repeat(300);
    String history10001 = "[" + String.join(",", java.util.stream.IntStream.range(0, 10_001)
        .mapToObj(i -> "{\"itemId\":\"i1\",\"timestamp\":1}").toList()) + "]";
    String twoMegabytes = "{\"userId\":\"" + "x".repeat(2_000_000) + "\",\"candidates\":[\"a\"]}";
    String key = EngineHarness.ADMIN_KEY;
    List<Bad> suite = List.of(
        new Bad("malformed JSON", "POST", "/v1/rerank", "application/json", "{bad", 400, "body"),
        new Bad("empty body", "POST", "/v1/rerank", "application/json", "", 400, "body"),
        new Bad("JSON array", "POST", "/v1/rerank", "application/json", "[]", 400, null),
        new Bad("JSON string", "POST", "/v1/rerank", "application/json", "\"x\"", 400, null),
        new Bad("JSON null", "POST", "/v1/rerank", "application/json", "null", 400, null),
        new Bad("truncated JSON", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\",\"candidates\":[\"x\"", 400, "candidates[1]"),
        new Bad("missing userId", "POST", "/v1/rerank", "application/json",
            "{\"candidates\":[\"a\"]}", 400, "userId"),
        new Bad("null userId", "POST", "/v1/rerank", "application/json",
            "{\"userId\":null,\"candidates\":[\"a\"]}", 400, "userId"),
        new Bad("empty userId", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"\",\"candidates\":[\"a\"]}", 400, "userId"),
        new Bad("blank userId", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"   \",\"candidates\":[\"a\"]}", 400, "userId"),
        new Bad("userId too long", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"" + longId + "\",\"candidates\":[\"a\"]}", 400, "userId"),
        new Bad("userId an object", "POST", "/v1/rerank", "application/json",
            "{\"userId\":{},\"candidates\":[\"a\"]}", 400, "userId"),
        new Bad("missing candidates", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\"}", 400, "candidates"),
        new Bad("empty candidates", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\",\"candidates\":[]}", 400, "candidates"),
        new Bad("candidates a string", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\",\"candidates\":\"a\"}", 400, "candidates"),
        new Bad("null candidate", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\",\"candidates\":[null]}", 400, "candidates[0]"),
        new Bad("blank candidate", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\",\"candidates\":[\"ok\",\" \"]}", 400, "candidates[1]"),
        new Bad("candidate an object", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\",\"candidates\":[{}]}", 400, "candidates[0]"),
        new Bad("duplicate candidates", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\",\"candidates\":[\"x\",\"y\",\"x\"]}", 400, "candidates[2]"),
        new Bad("10,001 candidates", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\",\"candidates\":" + many + "}", 400, "candidates"),
        new Bad("candidate too long", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\",\"candidates\":[\"" + longId + "\"]}", 400, "candidates[0]"),
        new Bad("k zero", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\",\"candidates\":[\"x\"],\"k\":0}", 400, "k"),
        new Bad("k negative", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\",\"candidates\":[\"x\"],\"k\":-5}", 400, "k"),
        new Bad("k a word", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\",\"candidates\":[\"x\"],\"k\":\"ten\"}", 400, "k"),
        new Bad("k too large", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\",\"candidates\":[\"x\"],\"k\":20000}", 400, "k"),
        new Bad("unknown experiment", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\",\"candidates\":[\"x\"],\"experiment\":\"nope\"}", 404,
            "experiment"),
        new Bad("history not a list", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\",\"candidates\":[\"x\"],\"history\":5}", 400, "history"),
        new Bad("history event without item", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\",\"candidates\":[\"x\"],\"history\":[{\"timestamp\":1}]}", 400,
            "history[0].itemId"),
        new Bad("history negative timestamp", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\",\"candidates\":[\"x\"],\"history\":[{\"itemId\":\"i\","
                + "\"timestamp\":-1}]}", 400, "history[0].timestamp"),
        new Bad("history timestamp a word", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\",\"candidates\":[\"x\"],\"history\":[{\"itemId\":\"i\","
                + "\"timestamp\":\"now\"}]}", 400, "history[0].timestamp"),
        new Bad("history of 10,001 events", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\",\"candidates\":[\"x\"],\"history\":" + history10001 + "}", 400,
            "history"),
        new Bad("body of 2 MB", "POST", "/v1/rerank", "application/json", twoMegabytes, 413,
            "body"),
        new Bad("text/plain", "POST", "/v1/rerank", "text/plain", "hello", 415, null),
        new Bad("GET on rerank", "GET", "/v1/rerank", null, null, 405, null),
        new Bad("deadline a word", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\",\"candidates\":[\"x\"]}", 400, "X-Deadline-Ms", "X-Deadline-Ms",
            "soon"),
        new Bad("deadline zero", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\",\"candidates\":[\"x\"]}", 400, "X-Deadline-Ms", "X-Deadline-Ms",
            "0"),
        new Bad("unknown path", "GET", "/v1/nothing-here", null, null, 404, null),
        new Bad("state of an unknown user", "GET", "/v1/users/nobody-at-all/state", null, null,
            404, "userId", "X-Api-Key", key),
        new Bad("state without the admin key", "GET", "/v1/users/alice/state", null, null, 401,
            null),
        // issue 9, finding 5: ids that are not Unicode scalar sequences, coercions, duplicates
        new Bad("userId a lone high surrogate", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"\\ud800\",\"candidates\":[\"a\"]}", 400, "userId"),
        new Bad("userId a lone low surrogate", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\\udfff\",\"candidates\":[\"a\"]}", 400, "userId"),
        new Bad("candidate with a lone surrogate", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\",\"candidates\":[\"x\",\"\\ud800y\"]}", 400, "candidates[1]"),
        new Bad("userId with a control character", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\\u0000b\",\"candidates\":[\"a\"]}", 400, "userId"),
        new Bad("history item with a lone surrogate", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\",\"candidates\":[\"x\"],\"history\":[{\"itemId\":\"\\udfff\","
                + "\"timestamp\":1}]}", 400, "history[0].itemId"),
        new Bad("k a fraction", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\",\"candidates\":[\"x\"],\"k\":1.5}", 400, "k"),
        new Bad("k a numeric string", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\",\"candidates\":[\"x\"],\"k\":\"3\"}", 400, "k"),
        new Bad("k a boolean", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\",\"candidates\":[\"x\"],\"k\":true}", 400, "k"),
        new Bad("numeric candidate", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\",\"candidates\":[\"x\",42]}", 400, "candidates[1]"),
        new Bad("boolean candidate", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\",\"candidates\":[true]}", 400, "candidates[0]"),
        new Bad("numeric userId", "POST", "/v1/rerank", "application/json",
            "{\"userId\":7,\"candidates\":[\"x\"]}", 400, "userId"),
        new Bad("duplicate key", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\",\"userId\":\"b\",\"candidates\":[\"x\"]}", 400, "userId"),
        new Bad("duplicate k", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\",\"candidates\":[\"x\"],\"k\":1,\"k\":2}", 400, "k"),
        new Bad("admin k zero", "PUT", "/admin/experiments/default", "application/json",
            "{\"weights\":{\"performer\":50,\"softmax\":50},\"k\":0}", 400, "k", "X-Api-Key",
            key),
        new Bad("admin k 100,000", "PUT", "/admin/experiments/default", "application/json",
            "{\"weights\":{\"performer\":50,\"softmax\":50},\"k\":100000}", 400, "k",
            "X-Api-Key", key),
        new Bad("admin weights of 1e308", "PUT", "/admin/experiments/x", "application/json",
            "{\"weights\":{\"performer\":1e308,\"softmax\":1e308}}", 400, "weights",
            "X-Api-Key", key),
        new Bad("admin weight a string", "PUT", "/admin/experiments/x", "application/json",
            "{\"weights\":{\"performer\":\"50\"}}", 400, "weights.performer", "X-Api-Key", key),
        new Bad("admin bad experiment id", "PUT", "/admin/experiments/a%20b", "application/json",
            "{\"weights\":{\"performer\":1}}", 400, "id", "X-Api-Key", key),
        new Bad("unknown path outside the API", "GET", "/nothing-here", null, null, 404, null),
        new Bad("DELETE on rerank", "DELETE", "/v1/rerank", null, null, 405, null),
        new Bad("GET on an admin PUT-only path", "GET", "/admin/experiments/default", null, null,
            405, null, "X-Api-Key", key),
        new Bad("report of an unknown experiment", "GET", "/v1/experiments/nope/report", null,
            null, 404, "id"),
        new Bad("admin without key", "PUT", "/admin/experiments/x", "application/json",
            "{\"weights\":{\"performer\":1}}", 401, null),
        new Bad("admin with bad weights", "PUT", "/admin/experiments/x", "application/json",
            "{\"weights\":{\"random\":1}}", 400, "weights", "X-Api-Key", key),
        new Bad("admin negative weight", "PUT", "/admin/experiments/x", "application/json",
            "{\"weights\":{\"performer\":-1}}", 400, "weights", "X-Api-Key", key),
        new Bad("activate unknown model", "POST", "/admin/models/none-000000000000/activate",
            null, null, 404, "version", "X-Api-Key", key),
        // issue 18, 8: an id no experiment can have is 400, not 404, and not echoed whole
        new Bad("300-character experiment id", "GET", "/v1/experiments/" + "e".repeat(300)
            + "/report", null, null, 400, "id"),
        new Bad("300-character experiment id in a rerank", "POST", "/v1/rerank",
            "application/json", "{\"userId\":\"a\",\"candidates\":[\"x\"],\"experiment\":\""
                + "e".repeat(300) + "\"}", 400, "experiment"),
        new Bad("a body in brotli", "POST", "/v1/rerank", "application/json",
            "{\"userId\":\"a\",\"candidates\":[\"x\"]}", 415, null, "Content-Encoding", "br"));
    assertThat(suite).hasSizeGreaterThanOrEqualTo(30);
    for (Bad bad : suite) {
      HttpResponse<String> r = request(bad.method(), bad.path(), bad.contentType(), bad.body(),
          bad.headers());
      assertThat(r.statusCode()).as("%s: %s", bad.name(), r.body()).isEqualTo(bad.status());
      assertThat(r.headers().firstValue("Content-Type").orElse(""))
          .as("%s content type", bad.name()).contains("application/problem+json");
      JsonNode problem = json.readTree(r.body());
      assertThat(problem.get("status").asInt()).as(bad.name()).isEqualTo(bad.status());
      assertThat(problem.get("title").asString()).as("%s title", bad.name()).isNotBlank();
      assertThat(problem.get("detail").asString()).as("%s detail: no Java in it", bad.name())
          .doesNotContain("dev.reranker").doesNotContain("java.").doesNotContain("$");
      if (bad.field() != null) {
        assertThat(problem.get("field").asString()).as("%s field", bad.name())
            .isEqualTo(bad.field());
      }
      // echoed input is cut: no answer grows with what was sent
      assertThat(problem.get("detail").asString().length()).as("%s detail length", bad.name())
          .isLessThan(400);
    }
    // still serving
    assertThat(rerank("alice", List.of("i1", "i2")).get("items")).hasSize(2);
  }

  /** Issue 18, 3: the API description leaves out the instances' own paths, which need a key. */
  @Test
  void theInternalSurfaceIsNotDescribedAndNeedsTheClusterKey() throws Exception {
    HttpResponse<String> docs = request("GET", "/v3/api-docs", null, null);
    assertThat(docs.statusCode()).isEqualTo(200);
    assertThat(docs.body()).contains("/v1/rerank").doesNotContain("/internal/");
    String path = "/internal/experiments/default/aggregates";
    assertThat(request("GET", path, null, null).statusCode()).isEqualTo(401);
    assertThat(request("GET", path, null, null, "X-Api-Key", EngineHarness.ADMIN_KEY)
        .statusCode()).isEqualTo(403);
    assertThat(request("GET", path, null, null, "X-Reranker-Cluster-Key",
        EngineHarness.CLUSTER_KEY).statusCode()).isEqualTo(200);
  }

  /** Issue 18, 8: gzip bodies, as many clients send them; bounded after decompression. */
  @Test
  void gzipBodiesAreDecompressedAndBoundedAfterDecompression() throws Exception {
    HttpResponse<String> ok = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/rerank"))
        .header("Content-Type", "application/json").header("Content-Encoding", "gzip")
        .POST(HttpRequest.BodyPublishers.ofByteArray(gzip(
            "{\"userId\":\"alice\",\"candidates\":[\"i1\",\"i2\"]}".getBytes(
                java.nio.charset.StandardCharsets.UTF_8)))).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    assertThat(json.readTree(ok.body()).get("items")).hasSize(2);
    // 20 KB of gzip that inflates past the 1 MiB limit: 413
    byte[] inflated = ("{\"userId\":\"" + "x".repeat(3_000_000) + "\",\"candidates\":[\"a\"]}")
        .getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] bomb = gzip(inflated);
    assertThat(bomb.length).isLessThan(100_000);
    HttpResponse<String> big = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/rerank"))
        .header("Content-Type", "application/json").header("Content-Encoding", "gzip")
        .POST(HttpRequest.BodyPublishers.ofByteArray(bomb)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(big.statusCode()).as(big.body()).isEqualTo(413);
    // said to be gzip, but is not: 400 that says so
    HttpResponse<String> notGzip = http.send(HttpRequest.newBuilder(URI.create(base
        + "/v1/rerank")).header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip").POST(HttpRequest.BodyPublishers.ofString(
            "{\"userId\":\"alice\",\"candidates\":[\"i1\"]}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(notGzip.statusCode()).as(notGzip.body()).isEqualTo(400);
    assertThat(notGzip.headers().firstValue("Content-Type").orElse(""))
        .contains("application/problem+json");
    assertThat(json.readTree(notGzip.body()).get("detail").asString()).contains("gzip");
  }

  private static byte[] gzip(byte[] raw) throws java.io.IOException {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try (java.util.zip.GZIPOutputStream z = new java.util.zip.GZIPOutputStream(out)) {
      z.write(raw);
    }
    return out.toByteArray();
  }

  @Test
  void errorsOutsideControllersAreProblemsAndOperationalDetailsNeedTheKey() throws Exception {
    // a chunked body (no Content-Length) over the 1 MiB limit: 413, not 400
    byte[] big = ("{\"userId\":\"" + "x".repeat(1_200_000) + "\",\"candidates\":[\"a\"]}")
        .getBytes(java.nio.charset.StandardCharsets.UTF_8);
    HttpResponse<String> chunked = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/rerank"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofByteArray(big)))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(chunked.statusCode()).as(chunked.body()).isEqualTo(413);
    assertThat(chunked.headers().firstValue("Content-Type").orElse(""))
        .contains("application/problem+json");

    // a request Tomcat refuses before any servlet runs (an invalid request target)
    try (java.net.Socket s = new java.net.Socket("localhost", EngineHarness.port(app))) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write("GET /v1/{bad} HTTP/1.1\r\nHost: x\r\n\r\n"
          .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      String raw = new String(s.getInputStream().readNBytes(4096),
          java.nio.charset.StandardCharsets.UTF_8);
      assertThat(raw).startsWith("HTTP/1.1 400");
      assertThat(raw).containsIgnoringCase("content-type: application/problem+json");
      assertThat(raw).contains("\"status\":400").doesNotContain("<html");
    }

    // health: status for anyone, details (disk, model versions) only with the admin key
    JsonNode open = json.readTree(request("GET", "/actuator/health", null, null).body());
    assertThat(open.get("status").asString()).isEqualTo("UP");
    assertThat(open.has("components")).isFalse();
    assertThat(open.toString()).doesNotContain(harness.performer.version());
    JsonNode admin = json.readTree(request("GET", "/actuator/health", null, null, "X-Api-Key",
        EngineHarness.ADMIN_KEY).body());
    assertThat(admin.toString()).contains(harness.performer.version());
    JsonNode readiness = json.readTree(request("GET", "/actuator/health/readiness", null, null,
        "X-Api-Key", EngineHarness.ADMIN_KEY).body());
    assertThat(readiness.get("components").get("engine").get("details").get("restoringStores")
        .asInt()).isZero();
    JsonNode liveness = json.readTree(request("GET", "/actuator/health/liveness", null, null,
        "X-Api-Key", EngineHarness.ADMIN_KEY).body());
    assertThat(liveness.get("status").asString()).isEqualTo("UP");
    assertThat(liveness.get("components").has("streams")).isTrue();
  }
}
