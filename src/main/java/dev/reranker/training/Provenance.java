package dev.reranker.training;

import dev.reranker.attention.Nd4jThreads;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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

  /**
   * {@code git rev-parse HEAD} (+ "-dirty") of the working directory, else of the directory the
   * running jar or classes are in (a benchmark started elsewhere with {@code java -jar
   * <checkout>/target/reranker.jar} recorded "unknown" before), else "unknown".
   */
  public static String gitCommit() {
    String here = gitCommit(Path.of("").toAbsolutePath());
    if (!here.equals("unknown")) {
      return here;
    }
    try {
      Path code = codeLocation(Provenance.class.getProtectionDomain().getCodeSource()
          .getLocation().toString());
      return code == null ? "unknown" : gitCommit(Files.isDirectory(code) ? code
          : code.getParent());
    } catch (RuntimeException e) { // no code source
      return "unknown";
    }
  }

  /**
   * The file a code source's location names: {@code file:/…/target/classes/}, {@code
   * file:/…/reranker.jar}, or, in the service's jar, Spring Boot's {@code
   * jar:nested:/…/reranker.jar/!BOOT-INF/classes/!/}; null when it names none.
   */
  static Path codeLocation(String location) {
    // up to the jar's name only where ".jar" ends a path segment (not a directory "x.jars/")
    java.util.regex.Matcher jar = java.util.regex.Pattern.compile("\\.jar(?=$|[/!])")
        .matcher(location);
    String s = jar.find() ? location.substring(0, jar.end()) : location;
    for (String prefix : new String[] {"jar:", "nested:", "file:"}) {
      if (s.startsWith(prefix)) {
        s = s.substring(prefix.length());
      }
    }
    if (!s.startsWith("/")) {
      return null;
    }
    try {
      return Path.of(java.net.URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** {@code git rev-parse HEAD} (+ "-dirty") of the repository holding {@code dir}, or "unknown". */
  static String gitCommit(Path dir) {
    if (dir == null || !Files.isDirectory(dir)) {
      return "unknown";
    }
    try {
      String head = run(dir, "git", "rev-parse", "HEAD").trim();
      if (head.isEmpty()) {
        return "unknown";
      }
      return run(dir, "git", "status", "--porcelain", "--untracked-files=no").isBlank() ? head
          : head + "-dirty";
    } catch (IOException | InterruptedException e) {
      return "unknown";
    }
  }

  private static String run(Path dir, String... command) throws IOException,
      InterruptedException {
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
        .start();
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
