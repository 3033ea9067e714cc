package dev.reranker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reranker.model.Arm;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@code bench ingest} end to end on a small stream (numbers are reported, not asserted). */
class BenchIngestCommandIntegrationTest {

  @Test
  void writesTheRatesTheIssueAsksFor(@TempDir Path dir) throws Exception {
    Path model = dir.resolve("model");
    ModelArtifacts.save(TestModels.model(Arm.PERFORMER, 5), model);
    Path out = dir.resolve("ingest.json");
    int code = RerankerMain.commandLine().execute("bench", "ingest", "--events", "3000",
        "--users", "50", "--partitions", "2", "--model", model.toString(), "--out",
        out.toString());
    assertThat(code).isZero();
    JsonNode json = JsonMapper.builder().build().readTree(Files.readString(out));
    assertThat(json.get("ingest_events_per_s").asLong()).isPositive();
    assertThat(json.get("bare_consumer_events_per_s").asLong()).isPositive();
    assertThat(json.get("seconds_by_stage").has("fold")).isTrue();
    assertThat(json.get("changelog").get("broker_log_bytes_per_event").asDouble()).isPositive();
    assertThat(json.get("fold_cost").get("state_bytes_at_100001").asLong())
        .isEqualTo(json.get("fold_cost").get("state_bytes_at_101").asLong());
    for (String key : new String[] {"no_fold_events_per_s", "noop_processor_events_per_s",
        "batched_fold_roofline_fraction", "single_fold_roofline_fraction", "freshness_ms_p99",
        "fold_floor_us", "single_fold_cold_states_us"}) {
      assertThat(json.get(key).asDouble()).as(key).isPositive();
    }
    // every freshness probe was folded and seen (none waited out its 10 s)
    assertThat(json.get("freshness").get("timed_out").asLong()).isZero();
    assertThat(json.get("roofline").get("sgemm_gflops").asDouble()).isPositive();
    assertThat(json.get("targets").size()).isEqualTo(7);
    assertThat(json.get("machine").get("float_kernels").asString()).startsWith("vector-");
  }
}
