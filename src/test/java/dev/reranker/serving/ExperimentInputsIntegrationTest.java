package dev.reranker.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import dev.reranker.cli.RerankerMain;
import dev.reranker.data.EventType;
import dev.reranker.data.Interaction;
import dev.reranker.data.InteractionJson;
import dev.reranker.experiment.ArmChoice;
import dev.reranker.experiment.Exposure;
import dev.reranker.testing.EngineHarness;
import dev.reranker.testing.TestModels;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * Issue 18, 2, on a real broker with the service: two deployments side by side get the same
 * users, histories, exposures and true interactions; one also gets, next to every served user, a
 * click stamped in the year 2100, a malformed value, a repeated event id on a served item after
 * the exposure, another user's event under the user's key, an event from 1970 and an event id
 * re-sent after it left the retained history. Both reports have the same numbers for every arm,
 * the hostile one says what it ignored and why, and {@code experiment replay} over each
 * deployment's topics agrees with its online report.
 */
class ExperimentInputsIntegrationTest {

  static final int USERS = 20;
  static final int HISTORY = 10;
  static final ObjectMapper JSON = JsonMapper.builder().build();
  static final HttpClient HTTP = HttpClient.newHttpClient();

  @TempDir
  Path root;
  EngineHarness harness;

  @AfterEach
  void tearDown() {
    if (harness != null) {
      harness.close();
    }
  }

  @Test
  void hostileInteractionsChangeNoArmsNumbersOnlineOrInTheReplay() throws Exception {
    harness = new EngineHarness(root);
    long now = System.currentTimeMillis();
    Map<String, JsonNode> reports = new TreeMap<>();
    for (String app : List.of("ctl", "hos")) {
      ConfigurableApplicationContext ctx = harness.startWeb(app, app,
          "reranker.ingest.history-limit=8", "reranker.state.snapshot-every-events=4");
      int port = EngineHarness.port(ctx);
      HttpResponse<String> put = send(port, "PUT", "/admin/experiments/exp",
          "{\"weights\":{\"performer\":50,\"softmax\":50},\"k\":3}");
      assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
      boolean hostile = app.equals("hos");
      List<ProducerRecord<String, byte[]>> first = new ArrayList<>();
      List<ProducerRecord<String, byte[]>> then = new ArrayList<>();
      records(app, hostile, now, first, then);
      harness.produceRaw(app, p -> first.forEach(p::send));
      await().atMost(Duration.ofSeconds(60)).until(() ->
          EngineHarness.metrics(ctx).appliedCount() == (long) USERS * HISTORY
          && sum(report(port), "exposures") == USERS);
      harness.produceRaw(app, p -> then.forEach(p::send));
      await().atMost(Duration.ofSeconds(60)).until(() ->
          sum(report(port), "resolved") == 2L * USERS);
      JsonNode online = report(port);
      reports.put(app, online);

      Path out = root.resolve(app + "-replay.json");
      assertThat(RerankerMain.execute("experiment", "replay", "--experiment", "exp",
          "--bootstrap-servers", harness.broker.bootstrapServers(),
          "--exposures-topic", app + "-exposures", "--interactions-topic", app + "-interactions",
          "--experiments-topic", app + "-experiments", "--history-limit", "8",
          "--out", out.toString())).isZero();
      JsonNode replay = JSON.readTree(Files.readString(out));
      assertThat(replay.get("interactions_ignored")).isEqualTo(online.get(
          "interactions_ignored"));
      for (String arm : List.of("performer", "softmax")) {
        for (String field : List.of("users", "exposures", "resolved",
            "resolved_as_miss_at_horizon")) {
          assertThat(replay.get("arms").get(arm).get(field).asLong()).as(app + " " + arm + " "
              + field).isEqualTo(online.get("arms").get(arm).get(field).asLong());
        }
        for (String metric : List.of("hr_at_k", "ndcg_at_k", "mrr")) {
          assertThat(replay.get("arms").get(arm).get(metric).get("value").asDouble())
              .as(app + " " + arm + " " + metric).isCloseTo(online.get("arms").get(arm)
                  .get(metric).get("value").asDouble(), within(2e-6));
        }
      }
      harness.stop(ctx);
    }
    JsonNode ctl = reports.get("ctl");
    JsonNode hos = reports.get("hos");
    System.out.println("control: " + ctl.get("arms") + "\nhostile: " + hos.get("arms")
        + "\nignored: " + hos.get("interactions_ignored"));
    for (String arm : List.of("performer", "softmax")) {
      for (String field : List.of("users", "exposures", "resolved", "resolved_as_miss_at_horizon",
          "hr_at_k", "ndcg_at_k", "mrr")) {
        assertThat(hos.get("arms").get(arm).get(field)).as(arm + " " + field)
            .isEqualTo(ctl.get("arms").get(arm).get(field));
      }
      assertThat(ctl.get("arms").get(arm).get("resolved_as_miss_at_horizon").asLong()).isZero();
    }
    assertThat(ctl.get("interactions_ignored").isEmpty()).isTrue();
    assertThat(JSON.convertValue(hos.get("interactions_ignored"), Map.class)).isEqualTo(Map.of(
        "future_timestamp", USERS, "malformed", USERS, "duplicate_event_id", USERS,
        "key_mismatch", USERS));
  }

  /** Histories and the first exposures into {@code first}; the rest into {@code then}. */
  static void records(String app, boolean hostile, long now,
      List<ProducerRecord<String, byte[]>> first, List<ProducerRecord<String, byte[]>> then) {
    long t0 = now - 3 * 3_600_000L;
    long served = now - 3_600_000L;
    for (int u = 0; u < USERS; u++) {
      String user = "u" + u;
      for (int e = 0; e < HISTORY; e++) {
        first.add(event(app, user, new Interaction(user, "i" + ((u + e) % TestModels.ITEMS),
            t0 + e * 1000L, EventType.VIEW, user + "-h" + e)));
      }
      ArmChoice arm = u % 2 == 0 ? ArmChoice.PERFORMER : ArmChoice.SOFTMAX;
      List<String> list = List.of("a" + u, "b" + u, "c" + u, "d" + u);
      first.add(exposure(app, new Exposure("r1-" + u, "exp", user, arm, "v", list, served + u,
          1.0, 100, false, 3, false, null, 0, false)));
      if (hostile) {
        then.add(event(app, user, new Interaction(user, list.get(0), 4_102_444_800_000L,
            EventType.CLICK, user + "-2100")));
        then.add(new ProducerRecord<>(app + "-interactions", user, "{\"userId\":".getBytes(
            StandardCharsets.UTF_8)));
        then.add(event(app, user, new Interaction(user, list.get(1), served + u + 10,
            EventType.CLICK, user + "-h" + (HISTORY - 1))));
        then.add(event(app, user, new Interaction("other-" + u, list.get(0), served + u + 20,
            EventType.CLICK, "other-" + u + "-1")));
        then.add(event(app, user, new Interaction(user, list.get(2), 1_000L, EventType.VIEW,
            user + "-1970")));
        then.add(event(app, user, new Interaction(user, "i" + (u % TestModels.ITEMS), t0,
            EventType.VIEW, user + "-h0")));
      }
      int pick = u % 5;
      then.add(event(app, user, new Interaction(user, pick < 4 ? list.get(pick) : "elsewhere",
          served + u + 60_000, EventType.CLICK, user + "-t1")));
      then.add(exposure(app, new Exposure("r2-" + u, "exp", user, arm, "v", list,
          served + u + 120_000, 1.0, 100, false, 3, false, null, 0, false)));
      then.add(event(app, user, new Interaction(user, list.get((u + 1) % 4),
          served + u + 180_000, EventType.CLICK, user + "-t2")));
    }
  }

  static ProducerRecord<String, byte[]> event(String app, String key, Interaction e) {
    return new ProducerRecord<>(app + "-interactions", key, InteractionJson.toJson(e)
        .getBytes(StandardCharsets.UTF_8));
  }

  static ProducerRecord<String, byte[]> exposure(String app, Exposure e) {
    return new ProducerRecord<>(app + "-exposures", e.userId(), JSON.writeValueAsBytes(e));
  }

  static long sum(JsonNode report, String field) {
    long n = 0;
    if (report.get("arms") != null) {
      for (JsonNode arm : report.get("arms")) {
        n += arm.get(field).asLong();
      }
    }
    return n;
  }

  static JsonNode report(int port) throws Exception {
    return JSON.readTree(send(port, "GET", "/v1/experiments/exp/report", null).body());
  }

  static HttpResponse<String> send(int port, String method, String path, String body)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body))
        .header("X-Api-Key", EngineHarness.ADMIN_KEY);
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
