package dev.reranker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reranker.model.ModelArtifacts;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** train → artifact → evaluate, through the command line, on synthetic data (one short epoch). */
class TrainEvaluateCommandTest {

  @Test
  void trainThenEvaluateWritesTheReport(@TempDir Path dir) throws Exception {
    Path model = dir.resolve("model");
    int trained = RerankerMain.commandLine().execute("train", "--data", "synthetic:small:7",
        "--attention", "performer", "--dim", "16", "--features", "8", "--epochs", "1",
        "--threads", "2", "--out", model.toString());
    assertThat(trained).isZero();
    JsonNode training = JsonMapper.builder().build().readTree(Files.readString(
        model.resolve("training.json")));
    assertThat(training.get("threads").asInt()).isEqualTo(2);
    assertThat(training.get("events_per_s").asDouble()).isPositive();
    assertThat(training.get("sgemm_roofline_fraction").asDouble()).isPositive();
    assertThat(training.get("best_epoch").asInt()).isEqualTo(1);
    assertThat(training.get("seconds_to_best_epoch").asDouble()).isPositive()
        .isLessThanOrEqualTo(training.get("seconds").asDouble());
    assertThat(training.get("epochs")).hasSize(1);
    assertThat(training.get("test").has("ndcg@10")).isTrue();
    ModelArtifacts.TrainedModel m = ModelArtifacts.load(model);
    assertThat(m.version()).startsWith("performer-");
    assertThat(m.provenance()).containsKeys("seed", "data", "git_commit", "trained_at", "nd4j",
        "training");
    assertThat(m.metrics()).containsKeys("test", "popularity", "validation", "training_speed");

    Path report = dir.resolve("eval/report.json");
    int evaluated = RerankerMain.commandLine().execute("evaluate", "--model", model.toString(),
        "--data", "synthetic:small:7", "--max-lengths", "200,2048", "--out", report.toString());
    assertThat(evaluated).isZero();
    JsonNode json = JsonMapper.builder().build().readTree(Files.readString(report));
    for (String key : new String[] {"hr@10", "ndcg@10", "sampled_hr@10", "sampled_ndcg@10"}) {
      assertThat(json.has(key)).as(key).isTrue();
      assertThat(json.get("popularity").has(key)).as("popularity " + key).isTrue();
    }
    assertThat(json.get("by_max_length")).hasSize(2);
    assertThat(json.get("by_max_length").get(1).get("ms_per_user").asDouble()).isPositive();
    JsonNode ci = json.get("by_max_length").get(0).get("ndcg@10_ci95");
    double ndcg = json.get("by_max_length").get(0).get("ndcg@10").asDouble();
    assertThat(ci.get(0).asDouble()).isLessThanOrEqualTo(ndcg);
    assertThat(ci.get(1).asDouble()).isGreaterThanOrEqualTo(ndcg);
    assertThat(Files.readString(dir.resolve("eval/report.md"))).contains("| popularity |");
  }

  @Test
  void badInputsAreUsageErrors(@TempDir Path dir) {
    StringWriter err = new StringWriter();
    CommandLine cli = RerankerMain.commandLine();
    cli.setErr(new PrintWriter(err));
    assertThat(cli.execute("train", "--data", "synthetic:nope", "--out", dir.toString()))
        .isEqualTo(2);
    assertThat(err.toString()).contains("unknown synthetic data");
    assertThat(cli.execute("train", "--data", dir.resolve("missing.csv").toString(), "--out",
        dir.toString())).isEqualTo(2);
    assertThat(err.toString()).contains("does not exist");
    assertThat(cli.execute("train", "--data", "synthetic:small", "--attention", "linear", "--out",
        dir.toString())).isEqualTo(2);
    assertThat(err.toString()).contains("unknown attention 'linear'");
    assertThat(cli.execute("train", "--data", "synthetic:small", "--threads", "0", "--out",
        dir.toString())).isEqualTo(2);
    assertThat(err.toString()).contains("--threads must be in [1, 1024], got 0");
    assertThat(cli.execute("evaluate", "--model", dir.toString(), "--data", "synthetic:small"))
        .isEqualTo(1);
  }
}
