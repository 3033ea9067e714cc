package dev.reranker.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The README's benchmark tables are the rendering of the committed measurements in
 * {@code docs/benchmarks} (with their date, commit and machine): a table edited by hand, or a
 * measurement committed without {@code bench readme}, fails here.
 */
class ReadmeTablesTest {

  private static final Path DIR = Path.of("docs/benchmarks");

  @Test
  void everyBenchmarkSectionOfTheReadmeIsItsJsonRendered() throws IOException {
    String readme = Files.readString(Path.of("README.md"));
    List<String> sections = ReadmeTables.sections(readme);
    assertThat(sections).containsExactlyInAnyOrder("attention", "ingest", "rerank", "training",
        "training-memory", "lengths", "long-range");
    assertThat(ReadmeTables.update(readme, DIR))
        .as("README.md differs from docs/benchmarks: run `java -jar target/reranker.jar bench "
            + "readme`").isEqualTo(readme);
    try (Stream<Path> files = Files.list(DIR)) {
      assertThat(files.map(f -> f.getFileName().toString()).filter(f -> f.endsWith(".json"))
          .map(f -> f.substring(0, f.length() - 5)).toList())
          .as("every committed measurement is shown").containsExactlyInAnyOrderElementsOf(sections);
    }
  }

  @Test
  void aChangedMeasurementChangesTheReadme() throws IOException {
    String readme = Files.readString(Path.of("README.md"));
    Path copy = Files.createTempDirectory("bench");
    try (Stream<Path> files = Files.list(DIR)) {
      for (Path f : files.toList()) {
        String text = Files.readString(f);
        if (f.getFileName().toString().equals("ingest.json")) {
          text = text.replaceFirst("\"ingest_events_per_s\"\\s*:\\s*\\d+",
              "\"ingest_events_per_s\": 1234567");
        }
        Files.writeString(copy.resolve(f.getFileName()), text);
      }
    }
    String updated = ReadmeTables.update(readme, copy);
    assertThat(updated).isNotEqualTo(readme).contains("| 1,234,567 |");
  }
}
