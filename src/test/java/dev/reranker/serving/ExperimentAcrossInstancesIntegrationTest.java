package dev.reranker.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import dev.reranker.cli.RerankerMain;
import dev.reranker.data.EventType;
import dev.reranker.data.Interaction;
import dev.reranker.experiment.ArmChoice;
import dev.reranker.experiment.ExperimentRegistry;
import dev.reranker.ingest.InProcessKafkaBroker;
import dev.reranker.testing.EngineHarness;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The experiment report across three service instances over a real broker, through a restart,
 * and against an offline replay:
 * <ol>
 *   <li>simulated users are served through all three instances (any instance; the owner answers)
 *   and interact; every instance's report is the same document, byte for byte, and covers every
 *   user and every request served;</li>
 *   <li>all three stop, one loses its state directory, all three start again: the totals are the
 *   same as before the stop, and after more traffic they have grown by exactly that traffic (no
 *   user counted twice, no exposure lost or counted again);</li>
 *   <li>{@code experiment replay} recomputes the report from the topics alone: the same counts,
 *   the same statistics within rounding;</li>
 *   <li>a second experiment whose traffic the simulator skews (it drops 40 % of the users assigned
 *   to one arm, as a broken client would) is flagged for sample-ratio mismatch; the first is
 *   not.</li>
 * </ol>
 */
class ExperimentAcrossInstancesIntegrationTest {

  private static final String APP = "xinst";
  private static final int USERS = 400;
  private static final int PARTITIONS = 6;

  @TempDir
  Path root;
  private EngineHarness harness;
  private final HttpClient http = HttpClient.newHttpClient();
  private final JsonMapper json = JsonMapper.builder().build();
  private final SplittableRandom random = new SplittableRandom(11);
  private int[] ports;
  private final Map<String, AtomicInteger> served = Map.of("ab", new AtomicInteger(),
      "skewed", new AtomicInteger(), "il", new AtomicInteger());

  @AfterEach
  void tearDown() {
    if (harness != null) {
      harness.close();
    }
  }

  private List<ConfigurableApplicationContext> startAll() {
    List<ConfigurableApplicationContext> out = new ArrayList<>();
    String[] names = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
      out.add(harness.startWeb(APP, names[i], "server.port=" + ports[i],
          "spring.kafka.streams.properties.application.server=localhost:" + ports[i],
          "reranker.ingest.partitions=" + PARTITIONS));
    }
    // every instance owns partitions, and all agree who owns which
    await().atMost(Duration.ofSeconds(120)).until(() -> {
      Set<Integer> owners = owners(out.get(0));
      return owners.size() == 3 && out.stream().allMatch(c -> owners(c).equals(owners));
    });
    return out;
  }

  @Test
  void oneReportOverThreeInstancesThroughARestartEqualToItsReplay() throws Exception {
    harness = new EngineHarness(root);
    ports = InProcessKafkaBroker.freePorts(3);
    List<ConfigurableApplicationContext> instances = startAll();
    for (String id : List.of("ab", "skewed")) {
      HttpResponse<String> put = send(ports[0], "PUT", "/admin/experiments/" + id,
          "{\"weights\":{\"performer\":50,\"softmax\":50},\"k\":5}", "X-Api-Key",
          EngineHarness.ADMIN_KEY);
      assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
    }
    HttpResponse<String> il = send(ports[1], "PUT", "/admin/experiments/il",
        "{\"type\":\"interleaving\",\"k\":5}", "X-Api-Key", EngineHarness.ADMIN_KEY);
    assertThat(il.statusCode()).as(il.body()).isEqualTo(200);
    // shared through the experiments topic: every instance assigns alike
    await().atMost(Duration.ofSeconds(30)).until(() -> instances.stream().allMatch(c ->
        c.getBean(ExperimentRegistry.class).get("skewed") != null
            && c.getBean(ExperimentRegistry.class).get("ab") != null
            && c.getBean(ExperimentRegistry.class).get("il") != null));
    ExperimentRegistry registry = instances.get(0).getBean(ExperimentRegistry.class);
    List<String> users = new ArrayList<>();
    for (int u = 0; u < USERS; u++) {
      users.add("user-" + u);
    }
    // the planted mismatch: 40% of the users assigned softmax in "skewed" never reach the service
    Set<String> droppedFromSkewed = new HashSet<>();
    for (String u : users) {
      if (registry.get("skewed").assign(u) == ArmChoice.SOFTMAX
          && Math.floorMod(u.hashCode() * 31 + 7, 10) < 4) {
        droppedFromSkewed.add(u);
      }
    }

    for (int round = 0; round < 2; round++) {
      round(users, droppedFromSkewed, round);
    }
    String reportA = awaitResolved(ports[0], "ab");
    awaitResolved(ports[0], "skewed");
    String interleaved = awaitResolved(ports[2], "il");

    // 1. the same report from every instance, covering every user and request
    for (int port : new int[] {ports[1], ports[2]}) {
      assertThat(body(port, "/v1/experiments/ab/report")).isEqualTo(reportA);
    }
    JsonNode ab = json.readTree(reportA);
    assertThat(sum(ab, "exposures")).isEqualTo(served.get("ab").get());
    assertThat(sum(ab, "resolved")).isEqualTo(served.get("ab").get());
    assertThat(sum(ab, "users")).isEqualTo(USERS);
    assertThat(ab.get("coverage").get("complete").asBoolean()).isTrue();
    assertThat(ab.get("coverage").get("partitions")).hasSize(PARTITIONS);
    System.out.printf("three instances: %d requests served in 'ab', %d users; reports equal%n",
        served.get("ab").get(), USERS);

    // the interleaving experiment: every user saw both arms' lists interleaved, and each user
    // is counted once, by the arm their credits favour (or as a tie)
    assertThat(body(ports[0], "/v1/experiments/il/report")).isEqualTo(interleaved);
    JsonNode ilReport = json.readTree(interleaved);
    assertThat(ilReport.get("arms").properties()).extracting(Map.Entry::getKey)
        .containsExactly("interleaved");
    JsonNode pref = ilReport.get("interleaving");
    assertThat(pref.get("users").asInt()).isEqualTo(USERS);
    assertThat(pref.get("prefer_performer").asInt() + pref.get("prefer_softmax").asInt()
        + pref.get("ties").asInt()).isEqualTo(USERS);
    assertThat(pref.get("credits_performer").asInt() + pref.get("credits_softmax").asInt())
        .isPositive();
    System.out.println("interleaving: " + pref);

    // 4. SRM: the skewed run is flagged, the unskewed one not
    JsonNode skewed = json.readTree(body(ports[1], "/v1/experiments/skewed/report"));
    System.out.println("SRM: ab p = " + ab.get("sample_ratio").get("p_value") + ", skewed p = "
        + skewed.get("sample_ratio").get("p_value") + " (users per arm "
        + skewed.get("arms").get("performer").get("users") + " / "
        + skewed.get("arms").get("softmax").get("users") + ")");
    assertThat(skewed.get("sample_ratio").get("mismatch").asBoolean()).isTrue();
    assertThat(skewed.get("verdict").get("sample_ratio_ok").asBoolean()).isFalse();
    assertThat(ab.get("sample_ratio").get("mismatch").asBoolean()).isFalse();
    assertThat(ab.get("verdict").get("sample_ratio_ok").asBoolean()).isTrue();

    // 2. stop everything; one instance loses its disk; start again
    for (ConfigurableApplicationContext c : instances) {
      harness.stop(c);
    }
    harness.wipeState("c");
    List<ConfigurableApplicationContext> again = startAll();
    String afterRestart = awaitResolved(ports[2], "ab");
    assertThat(counts(json.readTree(afterRestart))).isEqualTo(counts(ab));
    round(users, droppedFromSkewed, 2);
    String afterMore = awaitResolved(ports[1], "ab");
    JsonNode more = json.readTree(afterMore);
    assertThat(sum(more, "exposures")).isEqualTo(served.get("ab").get());
    assertThat(sum(more, "resolved")).isEqualTo(served.get("ab").get());
    assertThat(sum(more, "users")).isEqualTo(USERS); // the same users, not new ones
    assertThat(body(ports[0], "/v1/experiments/ab/report")).isEqualTo(afterMore);
    assertThat(body(ports[2], "/v1/experiments/ab/report")).isEqualTo(afterMore);
    System.out.printf("after the restart (state of c wiped): %d requests, %d users%n",
        served.get("ab").get(), USERS);

    // 3. the replay equals the online report
    Path out = root.resolve("replay.json");
    int rc = RerankerMain.execute("experiment", "replay", "--experiment", "ab",
        "--bootstrap-servers", harness.broker.bootstrapServers(),
        "--exposures-topic", APP + "-exposures", "--interactions-topic", APP + "-interactions",
        "--experiments-topic", APP + "-experiments", "--out", out.toString());
    assertThat(rc).isZero();
    JsonNode replay = json.readTree(Files.readString(out));
    assertThat(counts(replay)).isEqualTo(counts(more));
    assertSameStatistics(replay, more);
    assertThat(replay.get("sample_ratio")).isEqualTo(more.get("sample_ratio"));
    // … and for the interleaving experiment, the preference counts exactly
    String ilAfter = awaitResolved(ports[0], "il");
    Path ilOut = root.resolve("replay-il.json");
    assertThat(RerankerMain.execute("experiment", "replay", "--experiment", "il",
        "--bootstrap-servers", harness.broker.bootstrapServers(),
        "--exposures-topic", APP + "-exposures", "--interactions-topic", APP + "-interactions",
        "--experiments-topic", APP + "-experiments", "--out", ilOut.toString())).isZero();
    JsonNode ilReplay = json.readTree(Files.readString(ilOut));
    JsonNode ilOnline = json.readTree(ilAfter);
    assertThat(counts(ilReplay)).isEqualTo(counts(ilOnline));
    assertThat(ilReplay.get("interleaving")).isEqualTo(ilOnline.get("interleaving"));
    assertThat(again).hasSize(3);
  }

  /** One round: every user is served in both experiments, then interacts once. */
  private void round(List<String> users, Set<String> droppedFromSkewed, int round)
      throws Exception {
    List<String> items = harness.performer.items().ids();
    ExecutorService pool = Executors.newFixedThreadPool(12);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int u = 0; u < users.size(); u++) {
        String user = users.get(u);
        int port = ports[(u + round) % 3]; // any instance: the owner answers
        List<String> candidates = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
          candidates.add(items.get((u * 7 + round * 5 + i * 3) % items.size()));
        }
        for (String experiment : List.of("ab", "skewed", "il")) {
          if (experiment.equals("skewed") && droppedFromSkewed.contains(user)) {
            continue;
          }
          done.add(pool.submit(() -> {
            HttpResponse<String> r = send(port, "POST", "/v1/rerank", json.writeValueAsString(
                Map.of("userId", user, "candidates", candidates, "k", 5, "experiment",
                    experiment)), "X-Deadline-Ms", "5000");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            if (experiment.equals("il")) {
              JsonNode answer = json.readTree(r.body());
              assertThat(answer.get("arm").asString()).isEqualTo("interleaved");
              assertThat(answer.get("items")).hasSize(5);
            }
            served.get(experiment).incrementAndGet();
            return null;
          }));
        }
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    // … then they act: after being served, on one of the candidates
    List<Interaction> events = new ArrayList<>();
    long now = System.currentTimeMillis();
    for (int u = 0; u < users.size(); u++) {
      String item = items.get((u * 7 + round * 5 + random.nextInt(20) * 3) % items.size());
      events.add(new Interaction(users.get(u), item, now, EventType.CLICK,
          "ev-" + round + "-" + u));
    }
    harness.produce(APP, events);
  }

  /**
   * Waits until the experiment's resolved exposures are every request served, and the chart's
   * last point (written at the join's next sweep) has caught up with them: from then on the
   * report does not change until more traffic comes. Returns it.
   */
  private String awaitResolved(int port, String experiment) {
    String[] last = new String[1];
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).until(() -> {
      HttpResponse<String> r = send(port, "GET", "/v1/experiments/" + experiment + "/report",
          null);
      if (r.statusCode() != 200) {
        return false; // rebalancing or restoring: 503
      }
      JsonNode rep = json.readTree(r.body());
      last[0] = r.body();
      JsonNode series = rep.get("series");
      JsonNode lastPoint = series.isEmpty() ? null : series.get(series.size() - 1);
      return rep.get("coverage").get("complete").asBoolean()
          && sum(rep, "resolved") == served.get(experiment).get()
          && sum(rep, "exposures") == served.get(experiment).get()
          && lastPoint != null && rep.get("arms").properties().stream().allMatch(arm ->
              lastPoint.has(arm.getKey()) && lastPoint.get(arm.getKey()).get("exposures")
                  .asLong() == arm.getValue().get("exposures").asLong()
                  && lastPoint.get(arm.getKey()).get("resolved").asLong()
                  == arm.getValue().get("resolved").asLong());
    });
    return last[0];
  }

  private static long sum(JsonNode report, String field) {
    long n = 0;
    for (JsonNode arm : report.get("arms")) {
      n += arm.get(field).asLong();
    }
    return n;
  }

  /** Per arm: users, exposures, resolved, misses at the horizon. */
  private static Map<String, List<Long>> counts(JsonNode report) {
    Map<String, List<Long>> out = new java.util.TreeMap<>();
    report.get("arms").properties().forEach(e -> out.put(e.getKey(), List.of(
        e.getValue().get("users").asLong(), e.getValue().get("exposures").asLong(),
        e.getValue().get("resolved").asLong(),
        e.getValue().get("resolved_as_miss_at_horizon").asLong())));
    return out;
  }

  /** Metric values, intervals and the comparison's numbers agree within the report's rounding. */
  private static void assertSameStatistics(JsonNode replay, JsonNode online) {
    for (String arm : List.of("performer", "softmax")) {
      for (String metric : List.of("hr_at_k", "ndcg_at_k", "mrr")) {
        JsonNode a = replay.get("arms").get(arm).get(metric);
        JsonNode b = online.get("arms").get(arm).get(metric);
        assertThat(a.get("value").asDouble()).as(arm + " " + metric)
            .isCloseTo(b.get("value").asDouble(), within(2e-6));
        for (int i = 0; i < 2; i++) {
          assertThat(a.get("ci95").get(i).asDouble()).as(arm + " " + metric + " ci")
              .isCloseTo(b.get("ci95").get(i).asDouble(), within(2e-6));
        }
      }
    }
    for (String metric : List.of("hr_at_k", "ndcg_at_k", "mrr")) {
      JsonNode a = replay.get("comparison").get(metric);
      JsonNode b = online.get("comparison").get(metric);
      assertThat(a.get("difference").asDouble()).isCloseTo(b.get("difference").asDouble(),
          within(2e-6));
      assertThat(a.get("fixed_horizon").get("p_value").asDouble()).as(metric)
          .isCloseTo(b.get("fixed_horizon").get("p_value").asDouble(), within(1e-5));
      assertThat(a.get("sequential").get("p_value").asDouble()).as(metric)
          .isCloseTo(b.get("sequential").get("p_value").asDouble(), within(1e-5));
    }
  }

  private Set<Integer> owners(ConfigurableApplicationContext c) {
    Set<Integer> out = new HashSet<>();
    for (int u = 0; u < 60; u++) {
      KeyQueryMetadata m;
      try {
        m = EngineHarness.streams(c).queryMetadataForKey(dev.reranker.data.Topics.HISTORY_STORE,
            "user-" + u, Serdes.String().serializer());
      } catch (RuntimeException e) {
        return Set.of();
      }
      if (m == null || m == KeyQueryMetadata.NOT_AVAILABLE) {
        return Set.of();
      }
      out.add(m.activeHost().port());
    }
    return out;
  }

  private String body(int port, String path) throws Exception {
    HttpResponse<String> r = send(port, "GET", path, null);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return r.body();
  }

  private HttpResponse<String> send(int port, String method, String path, String body,
      String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
