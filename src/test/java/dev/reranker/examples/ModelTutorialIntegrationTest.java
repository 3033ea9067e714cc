package dev.reranker.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reranker.ingest.InProcessKafkaBroker;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.testing.JarProcess;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * docs/models.md, step by step, with operating-system processes: "my events" as a JSONL file,
 * {@code train} for both arms into a directory that stands for the models volume (with the
 * {@code performer}/{@code softmax} links the tutorial makes), the events sent by the producer of
 * docs/events.md to a {@code broker} process, the engine started as {@code docker-compose.yml}'s
 * {@code reranker-1} (its environment, with the compose host names and the {@code /app} paths
 * mapped to this machine, in a working directory laid out as the image's {@code /app}), the
 * models it loaded checked, a rerank with them (an unknown candidate ranked last with no score), a
 * new version trained and activated through the admin API, made permanent by the link and kept
 * over a restart, then rolled back.
 */
class ModelTutorialIntegrationTest {

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final Pattern SAVED = Pattern.compile("saved model (\\S+) to ");

  @TempDir
  Path root;

  private final List<JarProcess> processes = new ArrayList<>();

  @AfterEach
  void stop() throws InterruptedException {
    for (JarProcess p : processes) {
      p.close();
    }
  }

  @Test
  void yourEventsBecomeYourModelServingFromTheVolume() throws Exception {
    // 1. export your events (the contract's JSONL): each user walks the catalogue in steps of 3
    Path events = root.resolve("events.jsonl");
    List<String> lines = events(300, 25, 40);
    Files.write(events, lines);

    // 2. train both arms (small and quick here; the tutorial uses the defaults)
    Path models = Files.createDirectories(root.resolve("models"));
    String performerV1 = train("performer", "performer-v1", 42);
    String softmaxV1 = train("softmax", "softmax-v1", 42);

    // 3. the volume's layout: the links name what a starting instance loads
    link(models, "performer", "performer-v1");
    link(models, "softmax", "softmax-v1");

    // the Kafka cluster
    int[] ports = InProcessKafkaBroker.freePorts(3);
    String servers = "localhost:" + ports[0];
    JarProcess broker = start("broker", List.of("-Xmx384m"), null, Map.of(), "broker",
        "--port", Integer.toString(ports[0]), "--controller-port", Integer.toString(ports[1]),
        "--data-dir", root.resolve("kafka").toString());
    broker.awaitLog("broker listening on", Duration.ofSeconds(120));

    // the engine as docker-compose.yml runs it, the volume at root/models
    Path app = Files.createDirectories(root.resolve("app/config"));
    Files.copy(Path.of("config/application.yml"), app.resolve("application.yml"));
    Map<String, String> env = composeEnvironment("reranker-1", servers, ports[2], models);
    String base = "http://localhost:" + ports[2];
    String key = env.get("RERANKER_SECURITY_ADMIN_API_KEY");
    startEngine(env, ports[2], "engine-1");

    // your events, sent by the documented producer to the topic the engine created
    try (InteractionProducerExample producer = new InteractionProducerExample(servers,
        "interactions")) {
      for (String line : lines) {
        JsonNode e = JSON.readTree(line);
        producer.send(e.get("eventId").asString(), e.get("userId").asString(),
            e.get("itemId").asString(), e.get("timestamp").asLong(),
            e.get("eventType").asString());
      }
    }

    // the models it loaded are the ones in the volume
    JsonNode listed = get(base + "/admin/models", key);
    assertThat(listed.get("active").get("performer").asString()).isEqualTo(performerV1);
    assertThat(listed.get("active").get("softmax").asString()).isEqualTo(softmaxV1);

    // rerank with them: known candidates by the model, an unknown one last with no score
    JsonNode answer = rerankOnceIngested(base, "u-3");
    assertThat(answer.get("modelVersion").asString()).isEqualTo(performerV1);
    JsonNode items = answer.get("items");
    JsonNode last = items.get(items.size() - 1);
    assertThat(last.get("itemId").asString()).isEqualTo("sku-new");
    assertThat(last.get("fallback").asBoolean()).isTrue();
    assertThat(last.get("score").isNull()).as(answer.toString()).isTrue();
    for (int i = 0; i < items.size() - 1; i++) {
      assertThat(items.get(i).get("fallback").asBoolean()).isFalse();
      assertThat(items.get(i).get("score").isNumber()).isTrue();
    }

    // 4. a new version into the volume, activated without a restart
    String performerV2 = train("performer", "performer-v2", 7);
    assertThat(performerV2).isNotEqualTo(performerV1);
    JsonNode activated = post(base + "/admin/models/" + performerV2 + "/activate", key);
    assertThat(activated.get("active").asString()).isEqualTo(performerV2);
    assertThat(activated.get("previous").asString()).isEqualTo(performerV1);
    assertThat(rerankOnceIngested(base, "u-3").get("modelVersion").asString())
        .isEqualTo(performerV2);

    // made what a restart loads by the link; a restart keeps it
    link(models, "performer", "performer-v2");
    JarProcess engine = processes.get(processes.size() - 1);
    assertThat(engine.terminate(Duration.ofSeconds(60))).as(engine.tail()).isIn(0, 143);
    startEngine(env, ports[2], "engine-1-restarted");
    assertThat(get(base + "/admin/models", key).get("active").get("performer").asString())
        .isEqualTo(performerV2);

    // roll back: the previous version is still in the library
    JsonNode rolledBack = post(base + "/admin/models/" + performerV1 + "/activate", key);
    assertThat(rolledBack.get("previous").asString()).isEqualTo(performerV2);
    assertThat(rerankOnceIngested(base, "u-3").get("modelVersion").asString())
        .isEqualTo(performerV1);
  }

  /** Users each walking a ring of items in steps of 3 from a random start (25 events each). */
  private static List<String> events(int users, int perUser, int items) {
    Random r = new Random(7);
    List<String> lines = new ArrayList<>();
    long t0 = 1_764_892_800_000L;
    for (int u = 0; u < users; u++) {
      int start = r.nextInt(items);
      for (int i = 0; i < perUser; i++) {
        int item = (start + 3 * i + (r.nextInt(4) == 0 ? 1 : 0)) % items;
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("schemaVersion", 1);
        e.put("eventId", "e-" + u + "-" + i);
        e.put("userId", "u-" + u);
        e.put("itemId", "sku-" + item);
        e.put("timestamp", t0 + u * 1_000L + i * 60_000L);
        e.put("eventType", "view");
        lines.add(JSON.writeValueAsString(e));
      }
    }
    return lines;
  }

  /** {@code train} as the tutorial runs it (fewer epochs, a narrower model); the saved version. */
  private String train(String attention, String directory, int seed) throws Exception {
    JarProcess p = start("train-" + directory, List.of("-Xmx512m"), null, Map.of(), "train",
        "--data", root.resolve("events.jsonl").toString(), "--format", "jsonl",
        "--attention", attention, "--epochs", "3", "--dim", "16", "--seed",
        Integer.toString(seed), "--out", root.resolve("models").resolve(directory).toString());
    assertThat(p.awaitExit(Duration.ofMinutes(5))).as(p.tail()).isZero();
    Matcher m = SAVED.matcher(p.tail());
    assertThat(m.find()).as(p.tail()).isTrue();
    // what train printed is the artifact's version, as the engine will load it
    assertThat(ModelArtifacts.load(root.resolve("models").resolve(directory)).version())
        .isEqualTo(m.group(1));
    return m.group(1);
  }

  private static void link(Path models, String name, String target) throws IOException {
    Path link = models.resolve(name);
    Files.deleteIfExists(link);
    Files.createSymbolicLink(link, Path.of(target)); // relative, as `ln -sfn` in the volume
  }

  /**
   * docker-compose.yml's environment of {@code service}, with the compose network's names and the
   * image's paths mapped to this machine; the demo feed off (these are our own events).
   */
  @SuppressWarnings("unchecked")
  private static Map<String, String> composeEnvironment(String service, String servers, int port,
      Path models) throws IOException {
    Map<String, Object> compose = new Yaml().load(Files.readString(Path.of("docker-compose.yml")));
    Map<String, Object> s = (Map<String, Object>) ((Map<String, Object>) compose.get("services"))
        .get(service);
    assertThat((List<String>) s.get("volumes")).contains("./models:/app/models:ro");
    Map<String, String> env = new LinkedHashMap<>();
    ((Map<String, Object>) s.get("environment")).forEach((k, v) -> env.put(k,
        String.valueOf(v)
            .replaceAll("\\$\\{[A-Z_]+:-([^}]*)}", "$1") // ${VAR:-default}: the default
            .replace("kafka:9092", servers)
            .replace(service + ":8080", "localhost:" + port)
            .replace("/app/models", models.toString())));
    assertThat(env.get("RERANKER_MODELS_PERFORMER")).isEqualTo(models + "/performer");
    env.put("RERANKER_DEMO_ENABLED", "false");
    return env;
  }

  private void startEngine(Map<String, String> env, int port, String name) throws Exception {
    JarProcess engine = start(name, List.of("-Xmx640m"), root.resolve("app"), env, "serve",
        "--server.port=" + port);
    long deadline = System.nanoTime() + Duration.ofMinutes(4).toNanos();
    while (true) {
      try {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(
            "http://localhost:" + port + "/actuator/health/readiness")).build(),
            HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200 && r.body().contains("UP")) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      assertThat(engine.alive()).as(engine.tail()).isTrue();
      assertThat(System.nanoTime()).as("readiness within 4 min: " + engine.tail())
          .isLessThan(deadline);
      Thread.sleep(250);
    }
  }

  /** A rerank in the all-performer experiment, once the user's events have been ingested. */
  private static JsonNode rerankOnceIngested(String base, String user) throws Exception {
    String body = "{\"userId\":\"" + user + "\",\"experiment\":\"shadow-check\",\"k\":6,"
        + "\"candidates\":[\"sku-1\",\"sku-4\",\"sku-7\",\"sku-new\",\"sku-10\",\"sku-13\"]}";
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (true) {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/rerank"))
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      JsonNode answer = JSON.readTree(r.body());
      if (!answer.get("coldStart").asBoolean() && !answer.get("degraded").asBoolean()
          && answer.get("statePosition").asLong() == 25) {
        assertThat(answer.get("arm").asString()).isEqualTo("performer");
        return answer;
      }
      assertThat(System.nanoTime()).as("ingested within 2 min: " + r.body()).isLessThan(deadline);
      Thread.sleep(250);
    }
  }

  private static JsonNode get(String url, String key) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url))
        .header("X-Api-Key", key).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  private static JsonNode post(String url, String key) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url))
        .header("X-Api-Key", key).POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  private JarProcess start(String name, List<String> jvm, Path workingDirectory,
      Map<String, String> env, String... args) throws IOException {
    JarProcess p = JarProcess.start(name, root.resolve(name + ".log"), jvm, workingDirectory, env,
        args);
    processes.add(p);
    return p;
  }
}
