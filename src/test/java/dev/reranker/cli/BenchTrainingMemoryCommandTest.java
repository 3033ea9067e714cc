package dev.reranker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reranker.bench.ReadmeTables;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@code bench training-memory} on small windows: rows, growth, the time budget, bad options. */
class BenchTrainingMemoryCommandTest {

  @Test
  void reportsEveryArmAndLengthAndStopsAnArmOverItsBudget(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("training-memory.json");
    StringWriter text = new StringWriter();
    CommandLine cli = RerankerMain.commandLine();
    cli.setOut(new PrintWriter(text));
    int code = cli.execute("bench", "training-memory", "--lengths", "64,1024,1100", "--items",
        "40", "--warm-up-steps", "0", "--out", out.toString());
    assertThat(code).isZero();
    JsonNode doc = JsonMapper.builder().build().readTree(Files.readString(out));
    assertThat(doc.get("benchmark").asString()).isEqualTo("training-memory");
    assertThat(doc.get("rows")).hasSize(6);
    for (JsonNode row : doc.get("rows")) {
      assertThat(row.get("status").asString()).isEqualTo("ok");
      assertThat(row.get("step_bytes").asLong()).isPositive();
    }
    assertThat(doc.get("growth").get("performer").get("longest_length_run").asInt())
        .isEqualTo(1100);
    assertThat(doc.get("targets").properties()).hasSize(1);
    assertThat(text.toString()).contains("| performer | 1,024 | 1 |");
    assertThat(ReadmeTables.render(doc, out)).contains("| softmax | 1,100 | 1 |");

    // a budget no step meets: each arm measures its first length, then reports the rest not run
    Path tight = dir.resolve("tight.json");
    assertThat(RerankerMain.commandLine().execute("bench", "training-memory", "--lengths",
        "32,64", "--items", "40", "--warm-up-steps", "0", "--max-step-seconds", "1e-9", "--out",
        tight.toString())).isZero();
    JsonNode stopped = JsonMapper.builder().build().readTree(Files.readString(tight));
    assertThat(stopped.get("rows").get(1).get("status").asString()).isEqualTo("not run");
    assertThat(stopped.get("rows").get(1).get("reason").asString()).contains("over the");
    assertThat(stopped.get("rows").get(2).get("status").asString()).isEqualTo("ok");
  }

  @Test
  void refusesLengthsThatDoNotIncrease() {
    assertThat(RerankerMain.commandLine().execute("bench", "training-memory", "--lengths",
        "200,100")).isEqualTo(2);
    assertThat(RerankerMain.commandLine().execute("bench", "training-memory", "--batch", "0"))
        .isEqualTo(2);
  }
}
