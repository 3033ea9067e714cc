package dev.reranker.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package structure ARCHITECTURE.md describes, held by the sources themselves: the graph of
 * package dependencies (imports and fully qualified references in {@code src/main/java}) has no
 * cycle, the core math has no Spring or Kafka, and the ingestion's stores are read only through
 * its own package.
 */
class PackageDependenciesTest {

  private static final Path MAIN = Path.of("src/main/java/dev/reranker");
  /** A reference to a class of a package (a subpackage counts as its top-level package). */
  private static final Pattern REFERENCE = Pattern.compile(
      "\\bdev\\.reranker\\.([a-z]+)(?:\\.[a-z]+)*\\.([A-Z][A-Za-z0-9]*)");

  /** package → packages it references. */
  static final Map<String, Set<String>> graph = new TreeMap<>();
  /** "package.Class" → the sources (package/File.java) that reference it. */
  static final Map<String, Set<String>> users = new TreeMap<>();
  static final Map<String, String> sources = new TreeMap<>();

  @BeforeAll
  static void scan() throws IOException {
    try (Stream<Path> files = Files.walk(MAIN)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        String pkg = MAIN.relativize(f).getName(0).toString();
        String text = Files.readString(f);
        sources.put(pkg + "/" + f.getFileName(), text);
        graph.computeIfAbsent(pkg, k -> new TreeSet<>());
        Matcher m = REFERENCE.matcher(text);
        while (m.find()) {
          if (!m.group(1).equals(pkg)) {
            graph.get(pkg).add(m.group(1));
            users.computeIfAbsent(m.group(1) + "." + m.group(2), k -> new TreeSet<>())
                .add(pkg + "/" + f.getFileName());
          }
        }
      }
    }
  }

  @Test
  void packagesFormNoCycle() {
    List<String> cycles = new ArrayList<>();
    for (String a : graph.keySet()) {
      for (String b : graph.get(a)) {
        if (reaches(b, a, new TreeSet<>())) {
          cycles.add(a + " -> " + b + " -> … -> " + a);
        }
      }
    }
    assertThat(cycles).as("package dependency cycles in %s", graph).isEmpty();
  }

  @Test
  void servingAndConfigAndExperimentAreLayered() {
    assertThat(graph.get("serving")).doesNotContain("config", "cli", "bench");
    assertThat(graph.get("experiment")).doesNotContain("serving", "config", "ingest");
    assertThat(graph.get("state")).doesNotContain("serving", "config", "ingest", "experiment");
  }

  @Test
  void theIngestionStoresAreReadOnlyThroughIngest() {
    for (String store : List.of("ingest.HistoryStore", "ingest.KafkaSnapshots",
        "ingest.DeadLetterHeaders")) {
      assertThat(users.getOrDefault(store, Set.of())).as("users of %s", store).isEmpty();
    }
  }

  @Test
  void theCoreMathHasNoSpringOrKafka() {
    sources.forEach((file, text) -> {
      if (file.startsWith("attention/") || file.startsWith("model/")) {
        assertThat(text).as(file).doesNotContain("import org.springframework",
            "import org.apache.kafka");
      }
    });
  }

  /**
   * The GPU package sits beside {@code attention}: it needs no other package of the project, and
   * no Spring, Kafka or ND4J (the device check runs it without ND4J's natives).
   */
  @Test
  void theGpuPackageIsOnTheGroundFloor() {
    assertThat(graph.get("gpu")).as("packages gpu references").isEmpty();
    sources.forEach((file, text) -> {
      if (file.startsWith("gpu/")) {
        assertThat(text).as(file).doesNotContain("org.springframework", "org.apache.kafka",
            "org.nd4j", "org.slf4j");
      }
    });
  }

  private static boolean reaches(String from, String to, Set<String> seen) {
    if (from.equals(to)) {
      return true;
    }
    if (!seen.add(from)) {
      return false;
    }
    for (String next : graph.getOrDefault(from, Set.of())) {
      if (reaches(next, to, seen)) {
        return true;
      }
    }
    return false;
  }
}
