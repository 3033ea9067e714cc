package dev.reranker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reranker.model.Arm;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.model.ModelConversion;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** train softmax → convert (zero-shot and a one-epoch fine-tune), through the command line. */
class ConvertCommandTest {

  @Test
  void convertsASoftmaxModelZeroShotAndFineTuned(@TempDir Path dir) throws Exception {
    Path softmax = dir.resolve("softmax");
    assertThat(RerankerMain.commandLine().execute("train", "--data", "synthetic:small:7",
        "--attention", "softmax", "--dim", "16", "--epochs", "2", "--threads", "2", "--out",
        softmax.toString())).isZero();
    ModelArtifacts.TrainedModel parent = ModelArtifacts.load(softmax);

    Path out = dir.resolve("converted");
    assertThat(RerankerMain.commandLine().execute("convert", "--model", softmax.toString(),
        "--data", "synthetic:small:7", "--features", "16", "--fine-tune-share", "0.5",
        "--control", "--threads", "2", "--out", out.toString())).isZero();

    JsonNode report = JsonMapper.builder().build().readTree(Files.readString(
        out.resolve("convert.json")));
    assertThat(report.get("parent").asString()).isEqualTo(parent.version());
    assertThat(report.get("features").asInt()).isEqualTo(16);
    for (String arm : new String[] {"softmax", "zero_shot", "fine_tuned"}) {
      assertThat(report.get(arm).has("ndcg@10")).as(arm).isTrue();
    }
    // the softmax row is the parent's own test result, recomputed
    assertThat(report.get("softmax").get("ndcg@10").asDouble()).isCloseTo(
        ((Number) ((java.util.Map<?, ?>) parent.metrics().get("test")).get("ndcg@10"))
            .doubleValue(), org.assertj.core.data.Offset.offset(1e-6));
    assertThat(report.get("fine_tuned").get("epochs").asInt()).isEqualTo(1);
    assertThat(report.get("fine_tuned").get("parent_epochs").asInt()).isEqualTo(2);
    assertThat(report.get("zero_shot").has("ndcg_retained")).isTrue();
    JsonNode ci = report.get("fine_tuned").get("ndcg_minus_softmax_ci95");
    assertThat(ci).hasSize(2);
    assertThat(ci.get(0).asDouble()).isLessThanOrEqualTo(ci.get(1).asDouble());

    // the control: the parent fine-tuned alike as softmax, and the conversion against it
    JsonNode control = report.get("control");
    assertThat(control.get("best_epoch").asInt()).isEqualTo(1);
    assertThat(control.get("model_version").asString()).as("the control is the parent trained on")
        .startsWith("softmax-").isNotEqualTo(parent.version());
    double controlNdcg = control.get("ndcg@10").asDouble();
    assertThat(control.get("ndcg_of_softmax").asDouble()).isCloseTo(controlNdcg
        / report.get("softmax").get("ndcg@10").asDouble(), org.assertj.core.data.Offset.offset(
        1e-3));
    assertThat(report.get("fine_tuned").get("ndcg_retained_of_control").asDouble()).isCloseTo(
        report.get("fine_tuned").get("ndcg@10").asDouble() / controlNdcg,
        org.assertj.core.data.Offset.offset(1e-3));
    assertThat(report.get("fine_tuned").get("ndcg_minus_control_ci95")).hasSize(2);

    ModelArtifacts.TrainedModel zeroShot = ModelArtifacts.load(out.resolve("zero-shot"));
    ModelArtifacts.TrainedModel fineTuned = ModelArtifacts.load(out.resolve("fine-tuned"));
    for (ModelArtifacts.TrainedModel m : new ModelArtifacts.TrainedModel[] {zeroShot, fineTuned}) {
      assertThat(m.config().arm()).isEqualTo(Arm.PERFORMER);
      assertThat(m.config().features()).isEqualTo(16);
      assertThat(ModelConversion.parentOf(m)).isEqualTo(parent.version());
    }
    assertThat(zeroShot.version()).isEqualTo(report.get("zero_shot").get("model_version")
        .asString());
    assertThat(fineTuned.version()).as("the fine-tune changed the weights")
        .isNotEqualTo(zeroShot.version());
    assertThat(fineTuned.provenance()).containsKey("fine_tune");
  }

  @Test
  void refusesAPerformerModelAndBadOptions(@TempDir Path dir) {
    Path performer = dir.resolve("performer");
    assertThat(RerankerMain.commandLine().execute("train", "--data", "synthetic:small:7",
        "--dim", "16", "--features", "8", "--epochs", "1", "--threads", "1", "--out",
        performer.toString())).isZero();
    StringWriter err = new StringWriter();
    CommandLine cli = RerankerMain.commandLine();
    cli.setErr(new PrintWriter(err));
    assertThat(cli.execute("convert", "--model", performer.toString(), "--data",
        "synthetic:small:7", "--out", dir.resolve("x").toString())).isNotZero();
    assertThat(err.toString()).contains("must be a softmax model");
    assertThat(cli.execute("convert", "--model", performer.toString(), "--data",
        "synthetic:small:7", "--features", "0", "--out", dir.resolve("x").toString()))
        .isEqualTo(2);
    assertThat(err.toString()).contains("--features must be ≥ 1");
    assertThat(cli.execute("convert", "--model", performer.toString(), "--data",
        "synthetic:small:7", "--fine-tune-share", "2", "--out", dir.resolve("x").toString()))
        .isEqualTo(2);
    assertThat(err.toString()).contains("--fine-tune-share must be in [0, 1]");
    assertThat(cli.execute("convert", "--model", performer.toString(), "--data",
        "synthetic:small:7", "--fine-tune-share", "0", "--control", "--out",
        dir.resolve("x").toString())).isEqualTo(2);
    assertThat(err.toString()).contains("--control fine-tunes the parent alike");
  }
}
