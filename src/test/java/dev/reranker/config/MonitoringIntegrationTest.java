package dev.reranker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.reranker.data.EventType;
import dev.reranker.data.Interaction;
import dev.reranker.ingest.InProcessKafkaBroker;
import dev.reranker.testing.EngineHarness;
import java.net.URI;
import java.net.URLEncoder;
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
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;
import org.yaml.snakeyaml.Yaml;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The monitoring against a running engine: every metric the alert rules ({@code
 * config/prometheus/alerts.yml}) and the Grafana dashboard ({@code
 * config/grafana/reranker-dashboard.json}) query is one the engine exports; then the real
 * Prometheus server (Debian's {@code prometheus}; CI installs it and sets
 * RERANKER_REQUIRE_PROMETHEUS=1) scrapes the engine on loopback with those rules loaded: the
 * metrics arrive with data, and every rule evaluates without error.
 */
class MonitoringIntegrationTest {

  private static final Path ALERTS = Path.of("config/prometheus/alerts.yml");
  private static final Path DASHBOARD = Path.of("config/grafana/reranker-dashboard.json");
  /** Metric names in PromQL: the families the engine exports (Prometheus's own `up` aside). */
  private static final Pattern METRIC = Pattern.compile(
      "\\b((?:reranker|kafka|cache|jvm|process|system|http|executor)_[a-z0-9_]+)");

  @TempDir
  Path root;
  private EngineHarness harness;
  private Process prometheus;
  private final HttpClient http = HttpClient.newHttpClient();
  private final JsonMapper json = JsonMapper.builder().build();

  @AfterEach
  void tearDown() {
    if (prometheus != null) {
      prometheus.destroyForcibly();
    }
    if (harness != null) {
      harness.close();
    }
  }

  @Test
  void theAlertsAndTheDashboardQueryMetricsTheEngineExportsAndPrometheusScrapesThem()
      throws Exception {
    Set<String> used = new TreeSet<>();
    List<String> alertExprs = alertExpressions();
    alertExprs.forEach(e -> used.addAll(metricsIn(e)));
    JsonNode dashboard = json.readTree(Files.readString(DASHBOARD));
    for (JsonNode panel : dashboard.get("panels")) {
      assertThat(panel.get("title").asString()).isNotBlank();
      assertThat(panel.get("fieldConfig").get("defaults").get("unit").asString())
          .as("unit of panel '%s'", panel.get("title").asString()).isNotBlank();
      for (JsonNode target : panel.get("targets")) {
        used.addAll(metricsIn(target.get("expr").asString()));
      }
    }
    assertThat(used).hasSizeGreaterThan(10);

    harness = new EngineHarness(root);
    ConfigurableApplicationContext app = harness.startWeb("mon", "a");
    int port = EngineHarness.port(app);
    List<Interaction> events = new ArrayList<>();
    List<String> items = harness.performer.items().ids();
    long t = System.currentTimeMillis() - 60_000;
    for (int u = 0; u < 20; u++) {
      for (int i = 0; i < 10; i++) {
        events.add(new Interaction("u" + u, items.get((u + i * 3) % items.size()), t + i,
            EventType.VIEW, "e" + u + "-" + i));
      }
    }
    harness.produce("mon", events);
    await().atMost(Duration.ofSeconds(60)).until(() ->
        EngineHarness.metrics(app).appliedCount() == events.size());
    for (int u = 0; u < 20; u++) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://localhost:"
              + port + "/v1/rerank")).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"userId\":\"u" + u + "\",\"candidates\":"
              + json.writeValueAsString(items.subList(0, 10)) + ",\"k\":5}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    // 1. every metric used is exported
    Set<String> exported = new TreeSet<>();
    for (String line : get("http://localhost:" + port + "/actuator/prometheus").split("\n")) {
      if (!line.isBlank() && !line.startsWith("#")) {
        int end = line.indexOf('{') >= 0 ? line.indexOf('{') : line.indexOf(' ');
        exported.add(line.substring(0, end));
      }
    }
    assertThat(exported).as("metrics the alerts and the dashboard query").containsAll(used);

    // 2. the real Prometheus scrapes them, with the alert rules loaded
    Path server = Path.of("/usr/bin/prometheus");
    if ("1".equals(System.getenv("RERANKER_REQUIRE_PROMETHEUS"))) {
      assertThat(server).as("RERANKER_REQUIRE_PROMETHEUS=1 but Prometheus is missing")
          .isExecutable();
    }
    assumeTrue(Files.isExecutable(server), "Prometheus not installed at /usr/bin/prometheus "
        + "(apt-get install prometheus; .ci/run installs it): skipping the scrape check");
    int promPort = InProcessKafkaBroker.freePorts(1)[0];
    Path config = root.resolve("prometheus.yml");
    Files.copy(ALERTS, root.resolve("alerts.yml"));
    Files.writeString(config, """
        global: { scrape_interval: 1s, evaluation_interval: 1s }
        rule_files: [alerts.yml]
        scrape_configs:
          - job_name: reranker
            metrics_path: /actuator/prometheus
            static_configs: [{ targets: ["localhost:%d"] }]
        """.formatted(port));
    prometheus = new ProcessBuilder(server.toString(), "--config.file=" + config,
        "--storage.tsdb.path=" + root.resolve("tsdb"), "--web.listen-address=127.0.0.1:"
        + promPort).redirectErrorStream(true).redirectOutput(root.resolve("prometheus.log")
        .toFile()).start();
    String api = "http://127.0.0.1:" + promPort + "/api/v1/";
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
        .until(() -> query(api, "up{job=\"reranker\"}").get(0).get("value").get(1).asString()
            .equals("1"));
    for (String metric : used) {
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(500))
          .ignoreExceptions().alias(metric).until(() -> !query(api, metric).isEmpty());
    }
    // every rule evaluated, none in error (a typo'd function or a type mismatch shows here)
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).until(() -> {
      JsonNode groups = json.readTree(get(api + "rules")).get("data").get("groups");
      int evaluated = 0;
      for (JsonNode g : groups) {
        for (JsonNode rule : g.get("rules")) {
          assertThat(rule.get("health").asString()).as(rule.get("name").asString() + ": "
              + rule.path("lastError").asString()).isIn("ok", "unknown");
          evaluated += rule.get("health").asString().equals("ok") ? 1 : 0;
        }
      }
      return evaluated == alertExprs.size();
    });
    // and the engine is up: no alert fires on a healthy instance
    JsonNode alerts = json.readTree(get(api + "alerts")).get("data").get("alerts");
    assertThat(alerts).as(alerts.toString()).noneMatch(a -> a.get("state").asString()
        .equals("firing"));
  }

  @SuppressWarnings("unchecked")
  private static List<String> alertExpressions() throws Exception {
    Map<String, Object> doc = new Yaml().load(Files.readString(ALERTS));
    List<String> out = new ArrayList<>();
    for (Map<String, Object> group : (List<Map<String, Object>>) doc.get("groups")) {
      for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
        assertThat(((Map<String, Object>) rule.get("annotations")).get("runbook"))
            .as("runbook of " + rule.get("alert")).isNotNull();
        out.add((String) rule.get("expr"));
      }
    }
    return out;
  }

  private static Set<String> metricsIn(String expr) {
    Set<String> out = new TreeSet<>();
    Matcher m = METRIC.matcher(expr);
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  private JsonNode query(String api, String promql) throws Exception {
    JsonNode r = json.readTree(get(api + "query?query="
        + URLEncoder.encode(promql, StandardCharsets.UTF_8)));
    return r.get("data").get("result");
  }

  private String get(String url) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }
}
