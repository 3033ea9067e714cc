package dev.reranker.training;

import dev.reranker.attention.Nd4jThreads;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * What a trained model records about how it was made (after Tribuo's ModelProvenance): code version,
 * date, the platform's versions (float results can drift between JVMs and native libraries), and
 * the thread setting that makes runs reproducible.
 */
public final class Provenance {
  private Provenance() {}

  /** The environment part of a model's provenance. */
  public static Map<String, Object> environment() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("git_commit", gitCommit());
    m.put("trained_at", Instant.now().toString());
    m.put("reranker_version", String.valueOf(Provenance.class.getPackage()
        .getImplementationVersion()));
    m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    m.put("nd4j", nd4jVersion());
    m.put("nd4j_threads_per_op", Nd4jThreads.current());
    return m;
  }

  /** {@code git rev-parse HEAD} of the working directory (+ "-dirty"), or "unknown". */
  public static String gitCommit() {
    try {
      String head = run("git", "rev-parse", "HEAD").trim();
      if (head.isEmpty()) {
        return "unknown";
      }
      return run("git", "status", "--porcelain", "--untracked-files=no").isBlank() ? head
          : head + "-dirty";
    } catch (IOException | InterruptedException e) {
      return "unknown";
    }
  }

  private static String run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
      return "";
    }
    return new String(out, StandardCharsets.UTF_8);
  }

  private static String nd4jVersion() {
    try (InputStream in = Provenance.class.getClassLoader().getResourceAsStream(
        "META-INF/maven/org.nd4j/nd4j-api/pom.properties")) {
      if (in == null) {
        return "unknown";
      }
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version", "unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }
}
