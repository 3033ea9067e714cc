package dev.reranker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** bench lengths on synthetic data, tiny: the grid, its intervals, table, plot and resumption. */
class BenchLengthsCommandTest {

  @Test
  void theGridHasEveryCellWithIntervalsAndResumesFromItsModels(@TempDir Path dir)
      throws Exception {
    Path out = dir.resolve("grid/lengths.json");
    String[] args = {"bench", "lengths", "--data", "synthetic:small:7", "--dim", "16",
        "--features", "8", "--epochs", "1", "--threads", "2", "--seeds", "1,2",
        "--train-windows", "200,whole", "--lengths", "20,200,whole", "--models-dir",
        dir.resolve("models").toString(), "--out", out.toString()};
    assertThat(RerankerMain.commandLine().execute(args)).isZero();
    JsonNode report = JsonMapper.builder().build().readTree(Files.readString(out));
    // 2 arms × 2 windows × 3 lengths
    assertThat(report.get("cells")).hasSize(12);
    for (JsonNode cell : report.get("cells")) {
      double ndcg = cell.get("ndcg@10").asDouble();
      JsonNode ci = cell.get("ndcg@10_ci95");
      assertThat(ci.get(0).asDouble()).isLessThanOrEqualTo(ndcg + 1e-9);
      assertThat(ci.get(1).asDouble()).isGreaterThanOrEqualTo(ndcg - 1e-9);
      assertThat(cell.get("ndcg@10_per_seed")).hasSize(2);
    }
    JsonNode comparison = report.get("comparison");
    assertThat(comparison.get("available").asBoolean()).isTrue();
    assertThat(comparison.get("performer").get("train_window").asString()).isEqualTo("whole");
    assertThat(comparison.get("ndcg@10_difference_ci95")).hasSize(2);
    assertThat(comparison.get("ndcg@10_difference_per_seed")).hasSize(2);
    assertThat(report.get("test_users").asInt()).isEqualTo(1000);
    assertThat(report.get("skipped")).isEmpty();
    assertThat(Files.readString(dir.resolve("grid/lengths.md"))).contains("| performer | whole |");
    String readme = dev.reranker.bench.ReadmeTables.render(report, dir.resolve("grid/lengths.json"));
    assertThat(readme).contains("1000 test users").contains("| performer | whole |")
        .contains("Fixed in advance: the Performer trained on whole and reading whole");
    assertThat(report.get("machine").get("cpu_model")).isNotNull();
    assertThat(report.get("environment").get("nd4j")).isNotNull();
    assertThat(Files.readString(dir.resolve("grid/lengths.svg"))).contains("<polyline")
        .contains("softmax, trained on 200");
    try (var models = Files.list(dir.resolve("models"))) {
      assertThat(models.count()).isEqualTo(8);
    }

    // a second run reuses the eight models (none is written again) and reports the same cells
    Path oneModel = dir.resolve("models/performer-wwhole-s2/model.json");
    var written = Files.getLastModifiedTime(oneModel);
    Thread.sleep(20); // a rewrite would carry a later modification time
    assertThat(RerankerMain.commandLine().execute(args)).isZero();
    assertThat(Files.getLastModifiedTime(oneModel)).as("reused, not retrained").isEqualTo(written);
    JsonNode again = JsonMapper.builder().build().readTree(Files.readString(out));
    assertThat(again.get("cells")).isEqualTo(report.get("cells"));
  }

  @Test
  void softmaxWindowsAboveItsLimitAreSkippedAndSaidSo(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("lengths.json");
    assertThat(RerankerMain.commandLine().execute("bench", "lengths", "--data",
        "synthetic:small:7", "--arms", "softmax", "--train-windows", "whole", "--lengths", "20",
        "--seeds", "1", "--softmax-max-window", "10", "--models-dir",
        dir.resolve("models").toString(), "--out", out.toString())).isZero();
    JsonNode report = JsonMapper.builder().build().readTree(Files.readString(out));
    assertThat(report.get("cells")).isEmpty();
    assertThat(report.get("skipped")).hasSize(1);
    assertThat(report.get("skipped").get(0).get("reason").asString())
        .contains("above the softmax arm's limit of 10");
    assertThat(report.get("comparison").get("available").asBoolean()).isFalse();
  }

  @Test
  void badLengthsAreUsageErrors(@TempDir Path dir) {
    assertThat(RerankerMain.commandLine().execute("bench", "lengths", "--data",
        "synthetic:small:7", "--lengths", "0", "--models-dir", dir.toString())).isEqualTo(2);
    assertThat(RerankerMain.commandLine().execute("bench", "lengths", "--data",
        "synthetic:small:7", "--train-windows", "all", "--models-dir", dir.toString()))
        .isEqualTo(2);
  }
}
