package dev.reranker.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reranker.ingest.InProcessKafkaBroker;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The Dockerfile without a container engine (none runs here or in CI): its structure (a build
 * stage from the source tree, a JRE runtime as a non-root user, nothing copied from a host build),
 * the build context {@code .dockerignore} leaves (every file the Dockerfile copies, and not
 * {@code target/}, {@code data/}, {@code models/}), then the image's {@code /app} made the way
 * the Dockerfile makes it — the build stage's layout script run on the built jar, the runtime
 * stage's COPY lines applied in order — and its ENTRYPOINT + CMD started from there as an OS
 * process: it serves, with only linux-x86_64 native libraries on its class path.
 */
class ContainerImageLayoutIntegrationTest {

  private static final JsonMapper JSON = JsonMapper.builder().build();

  @TempDir
  Path root;

  /** One instruction: keyword and arguments, continuation lines joined. */
  record Instruction(String keyword, String arguments) {}

  static List<Instruction> instructions() throws IOException {
    List<Instruction> out = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : Files.readAllLines(Path.of("Dockerfile"))) {
      String t = line.strip();
      if (current.isEmpty() && (t.isEmpty() || t.startsWith("#"))) {
        continue;
      }
      if (t.endsWith("\\")) {
        current.append(t, 0, t.length() - 1).append(' ');
        continue;
      }
      current.append(t);
      String s = current.toString();
      int space = s.indexOf(' ');
      out.add(new Instruction(s.substring(0, space).toUpperCase(), s.substring(space + 1).strip()));
      current.setLength(0);
    }
    return out;
  }

  /** The instructions of each stage, by stage name. */
  static Map<String, List<Instruction>> stages(List<Instruction> all) {
    Map<String, List<Instruction>> stages = new java.util.LinkedHashMap<>();
    List<Instruction> current = null;
    for (Instruction i : all) {
      if (i.keyword().equals("FROM")) {
        Matcher m = Pattern.compile("(\\S+)\\s+AS\\s+(\\S+)", Pattern.CASE_INSENSITIVE)
            .matcher(i.arguments());
        assertThat(m.matches()).as("every stage is named: FROM " + i.arguments()).isTrue();
        current = new ArrayList<>(List.of(i));
        stages.put(m.group(2), current);
      } else {
        assertThat(current).as("an instruction before FROM: " + i).isNotNull();
        current.add(i);
      }
    }
    return stages;
  }

  @Test
  void theImageIsBuiltFromTheSourcesRunsAsNonRootAndServes() throws Exception {
    Map<String, List<Instruction>> stages = stages(instructions());
    assertThat(stages).hasSize(2);
    List<Instruction> build = stages.values().iterator().next();
    List<Instruction> runtime = stages.values().stream().skip(1).findFirst().orElseThrow();
    String buildName = stages.keySet().iterator().next();
    // the build stage: a JDK 25, the wrapper, the dependencies before the sources
    assertThat(build.get(0).arguments()).startsWith("eclipse-temurin:25-jdk");
    int deps = indexOf(build, "RUN", "dependency:go-offline");
    int sources = indexOf(build, "COPY", "src src");
    int pack = indexOf(build, "RUN", "./mvnw -B -q package");
    assertThat(deps).isLessThan(sources).isLessThan(pack);
    // the runtime: a JRE 25, a numeric non-root user, nothing from the host's target/
    assertThat(runtime.get(0).arguments()).startsWith("eclipse-temurin:25-jre");
    Instruction user = runtime.stream().filter(i -> i.keyword().equals("USER")).findFirst()
        .orElseThrow(() -> new AssertionError("no USER in the runtime stage"));
    assertThat(user.arguments()).matches("[1-9][0-9]*(:[1-9][0-9]*)?");
    for (List<Instruction> stage : stages.values()) {
      for (Instruction i : stage) {
        assertThat(i.arguments()).as(i.toString()).doesNotContain("target/reranker.jar /app");
        if (i.keyword().equals("COPY") && !i.arguments().startsWith("--from")) {
          for (String source : copySources(i)) {
            assertThat(inBuildContext(source)).as(".dockerignore lets " + source + " in").isTrue();
          }
        }
      }
    }
    for (String excluded : List.of("target/reranker.jar", "data/kafka", "models/x/model.json",
        "README.md")) {
      assertThat(inBuildContext(excluded)).as(".dockerignore keeps out " + excluded).isFalse();
    }

    // the build stage's layout step, run on the jar `package` built
    Instruction layoutStep = build.stream().filter(i -> i.keyword().equals("RUN")
        && i.arguments().startsWith("scripts/image-layout.sh")).findFirst().orElseThrow();
    String[] layoutArgs = layoutStep.arguments().split("\\s+");
    assertThat(layoutArgs[1]).isEqualTo("target/reranker.jar");
    Path layers = root.resolve("layers");
    run(List.of("sh", "scripts/image-layout.sh", "target/reranker.jar", layers.toString()),
        Path.of("."), Duration.ofMinutes(5));

    // the runtime stage's /app, COPY by COPY
    Path app = Files.createDirectories(root.resolve("app"));
    String workdir = runtime.stream().filter(i -> i.keyword().equals("WORKDIR")).findFirst()
        .orElseThrow().arguments();
    assertThat(workdir).isEqualTo("/app");
    for (Instruction i : runtime) {
      if (!i.keyword().equals("COPY")) {
        continue;
      }
      String[] a = i.arguments().split("\\s+");
      if (a[0].equals("--from=" + buildName)) {
        Path from = layers.resolve(a[1].substring(layoutArgs[2].length() + 1));
        assertThat(a[2]).isEqualTo("./");
        copyTree(from, app);
      } else {
        Path to = app.resolve(a[1]);
        Files.createDirectories(to.getParent());
        Files.copy(Path.of(a[0]), to);
      }
    }
    List<String> natives = nativeLibraries(app);
    assertThat(natives).isNotEmpty().allSatisfy(n -> assertThat(n.toLowerCase())
        .contains("linux").doesNotContain("musl").containsAnyOf("x86_64", "x86-64", "amd64",
            "linux64"));
    assertThat(natives).anyMatch(n -> n.contains("rocksdbjni")).anyMatch(n -> n.contains("nd4j"));

    // ENTRYPOINT + CMD, from /app
    List<String> command = new ArrayList<>(jsonArray(runtime, "ENTRYPOINT"));
    command.addAll(jsonArray(runtime, "CMD"));
    assertThat(command.get(0)).isEqualTo("java");
    command.set(0, ProcessHandle.current().info().command().orElse("java"));
    command.replaceAll(a -> a.startsWith(workdir + "/") ? app.resolve(a.substring(
        workdir.length() + 1)).toString() : a); // the image's /app is this directory
    int port = InProcessKafkaBroker.freePorts(1)[0];
    command.addAll(List.of("--server.port=" + port, "--reranker.demo.enabled=true"));
    Path log = root.resolve("image.log");
    Process p = new ProcessBuilder(command).directory(app.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile()).start();
    try {
      HttpClient http = HttpClient.newHttpClient();
      String base = "http://localhost:" + port;
      long deadline = System.nanoTime() + Duration.ofMinutes(4).toNanos();
      while (!ready(http, base)) {
        assertThat(p.isAlive()).as(Files.readString(log)).isTrue();
        assertThat(System.nanoTime()).as("readiness: " + Files.readString(log))
            .isLessThan(deadline);
        Thread.sleep(250);
      }
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/rerank"))
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
              "{\"userId\":\"u1\",\"candidates\":[\"t1\",\"t2\",\"n5\",\"k3\"],\"k\":3}"))
          .build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      JsonNode answer = JSON.readTree(r.body());
      assertThat(answer.get("items").size()).isEqualTo(3);
      // the state store went where the image's volume is
      assertThat(app.resolve("data/streams")).isDirectory();
      // the ENTRYPOINT's --add-modules gives the fold its vector kernels
      assertThat(Files.readString(log)).contains("one-event folds in the vector-");
      // the demo drives its own requests (reranker.demo.requests-per-second), each resolved by
      // the user's next event: both arms of the experiment get exposures and outcomes
      long reportDeadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
      while (true) {
        HttpResponse<String> report = http.send(HttpRequest.newBuilder(URI.create(base
            + "/v1/experiments/default/report")).build(), HttpResponse.BodyHandlers.ofString());
        if (report.statusCode() == 200) {
          JsonNode arms = JSON.readTree(report.body()).get("arms");
          if (arms.has("performer") && arms.has("softmax")
              && arms.get("performer").get("resolved").asLong() >= 5
              && arms.get("softmax").get("resolved").asLong() >= 5) {
            break;
          }
        }
        assertThat(System.nanoTime()).as("demo exposures resolved: " + report.body())
            .isLessThan(reportDeadline);
        Thread.sleep(1000);
      }
    } finally {
      p.destroy();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
  }

  private static boolean ready(HttpClient http, String base) throws InterruptedException {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base
          + "/actuator/health/readiness")).build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 && r.body().contains("UP");
    } catch (IOException notYet) {
      return false;
    }
  }

  private static int indexOf(List<Instruction> stage, String keyword, String text) {
    for (int i = 0; i < stage.size(); i++) {
      if (stage.get(i).keyword().equals(keyword) && stage.get(i).arguments().contains(text)) {
        return i;
      }
    }
    throw new AssertionError("no " + keyword + " with '" + text + "'");
  }

  private static List<String> copySources(Instruction copy) {
    List<String> args = List.of(copy.arguments().split("\\s+"));
    return args.subList(0, args.size() - 1);
  }

  /**
   * Whether .dockerignore leaves a path in the build context: its patterns in order, the last
   * match deciding ({@code !} re-includes); {@code *} matches within one path segment, a pattern
   * that names a directory covers what is under it.
   */
  static boolean inBuildContext(String path) throws IOException {
    boolean included = true;
    for (String line : Files.readAllLines(Path.of(".dockerignore"))) {
      String t = line.strip();
      if (t.isEmpty() || t.startsWith("#")) {
        continue;
      }
      boolean negate = t.startsWith("!");
      String pattern = (negate ? t.substring(1) : t).replaceAll("/$", "");
      String regex = Pattern.quote(pattern).replace("*", "\\E[^/]*\\Q");
      if (path.matches(regex + "(/.*)?")) {
        included = negate;
      }
    }
    return included;
  }

  private static List<String> jsonArray(List<Instruction> stage, String keyword) {
    String args = stage.stream().filter(i -> i.keyword().equals(keyword))
        .reduce((a, b) -> b).orElseThrow(() -> new AssertionError("no " + keyword)).arguments();
    List<String> out = new ArrayList<>();
    JSON.readTree(args).forEach(n -> out.add(n.asString()));
    return out;
  }

  private static List<String> nativeLibraries(Path app) throws IOException {
    List<String> natives = new ArrayList<>();
    try (Stream<Path> jars = Files.walk(app)) {
      for (Path jar : jars.filter(f -> f.toString().endsWith(".jar")).toList()) {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
          zip.stream().map(e -> e.getName())
              .filter(n -> n.endsWith(".so") || n.endsWith(".dll") || n.endsWith(".jnilib")
                  || n.endsWith(".dylib"))
              .forEach(n -> natives.add(jar.getFileName() + "!" + n));
        }
      }
    }
    return natives;
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path f : files.toList()) {
        Path target = to.resolve(from.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(target);
        } else {
          Files.copy(f, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  private static void run(List<String> command, Path dir, Duration timeout) throws Exception {
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
        .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)).as(out).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", command) + ": " + out).isZero();
  }
}
