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

/** The {@code bench attention} command end to end on small lengths (numbers are not asserted). */
class BenchAttentionCommandTest {

  @Test
  void writesOneJsonObjectWithAnEntryPerLength(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("nested/attention.json");
    StringWriter printed = new StringWriter();
    CommandLine cli = RerankerMain.commandLine();
    cli.setOut(new PrintWriter(printed));
    int code = cli.execute("bench", "attention", "--lengths", "32,96", "--dim", "16", "--heads",
        "2", "--features", "8", "--repeats", "1", "--kernel", "RELU", "--out", out.toString());
    assertThat(code).isZero();
    JsonNode json = JsonMapper.builder().build().readTree(Files.readString(out));
    assertThat(json.get("config").get("kernel").asString()).isEqualTo("relu");
    assertThat(json.get("results")).hasSize(2);
    JsonNode first = json.get("results").get(0);
    assertThat(first.get("length").asInt()).isEqualTo(32);
    for (String key : new String[] {"favor_encode_ms", "softmax_encode_ms", "favor_step_us",
        "softmax_step_us", "favor_state_bytes", "softmax_state_bytes", "favor_plain_encode_ms",
        "favor_plain_encode_roofline_fraction"}) {
      assertThat(first.get(key).asDouble()).as(key).isPositive();
    }
    // 2 heads × m=8 × (d_v=8 + 1) floats + the position: the same at both lengths
    assertThat(first.get("favor_state_bytes").asLong()).isEqualTo(4 * 2 * 8 * 9 + 8);
    assertThat(json.get("results").get(1).get("favor_state_bytes").asLong())
        .isEqualTo(first.get("favor_state_bytes").asLong());
    // the KV cache: 32 events × 2 heads × (8 + 8) floats + the position
    assertThat(first.get("softmax_state_bytes").asLong()).isEqualTo(4 * 32 * 2 * 16 + 8);
    assertThat(json.get("targets").has("encode_speedup_met")).isTrue();
    assertThat(printed.toString()).contains("| length |", "softmax enc ms", "wrote");
  }

  @Test
  void badArgumentsAreUsageErrors() {
    StringWriter err = new StringWriter();
    CommandLine cli = RerankerMain.commandLine();
    cli.setErr(new PrintWriter(err));
    assertThat(cli.execute("bench", "attention", "--lengths", "0,10")).isEqualTo(2);
    assertThat(err.toString()).contains("lengths must be ≥ 1");
    assertThat(cli.execute("bench", "attention", "--dim", "63", "--heads", "2")).isEqualTo(2);
    assertThat(err.toString()).contains("multiple of heads");
    assertThat(cli.execute("bench", "attention", "--kernel", "cosine")).isEqualTo(2);
    assertThat(err.toString()).contains("--kernel");
    assertThat(cli.execute("bench", "nonsense")).isEqualTo(2);
  }
}
