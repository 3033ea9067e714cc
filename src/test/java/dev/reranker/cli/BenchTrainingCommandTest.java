package dev.reranker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@code bench training} on a tiny configuration: its table, its JSON, its targets (no timing). */
class BenchTrainingCommandTest {

  @Test
  void writesEveryRowAndTheTargets(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("training.json");
    StringWriter text = new StringWriter();
    CommandLine cli = RerankerMain.commandLine();
    cli.setOut(new PrintWriter(text));
    int code = cli.execute("bench", "training", "--threads", "2", "--length", "8", "--batch",
        "4", "--negatives", "8", "--small-catalogue", "40", "--large-catalogue", "400",
        "--steps", "2", "--warm-up-steps", "1", "--out", out.toString());
    assertThat(code).isZero();
    JsonNode doc = JsonMapper.builder().build().readTree(Files.readString(out));
    assertThat(doc.get("benchmark").asString()).isEqualTo("training");
    assertThat(doc.get("rows")).hasSize(6);
    for (JsonNode row : doc.get("rows")) {
      assertThat(row.get("events_per_s").asDouble()).isPositive();
      assertThat(row.get("sgemm_roofline_fraction").asDouble()).isPositive();
    }
    assertThat(doc.get("rows").get(5).get("items").asInt()).isEqualTo(400);
    assertThat(doc.get("scaling").get("performer").get("threads").asInt()).isEqualTo(2);
    assertThat(doc.get("catalogue").get("ratio").asDouble()).isPositive();
    assertThat(doc.get("targets").properties()).hasSize(5);
    assertThat(text.toString()).contains("| performer | 400 | 8 sampled | 2 |");
    // one thread is the baseline: asking for it alone is a usage error
    assertThat(RerankerMain.commandLine().execute("bench", "training", "--threads", "1"))
        .isEqualTo(2);
  }
}
