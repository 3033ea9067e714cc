package dev.reranker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@code bench rerank} end to end, briefly (numbers are reported, not asserted). */
class BenchRerankCommandIntegrationTest {

  @Test
  void writesTheRatesTheIssueAsksForPerArm(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("rerank.json");
    int code = RerankerMain.commandLine().execute("bench", "rerank", "--candidates", "50",
        "--seconds", "1", "--threads", "2", "--users", "20", "--max-warm-up-rounds", "1",
        "--out", out.toString(), "--reranker.serving.deadline=2s");
    assertThat(code).isZero();
    JsonNode json = JsonMapper.builder().build().readTree(Files.readString(out));
    for (String key : new String[] {"rerank_rps", "p50_ms", "p99_ms", "inprocess_rps"}) {
      assertThat(json.get(key).asDouble()).as(key).isPositive();
    }
    assertThat(json.get("config").get("service_arguments").get(0).asString())
        .isEqualTo("--reranker.serving.deadline=2s");
    for (String arm : new String[] {"performer", "softmax"}) {
      JsonNode m = json.get("by_arm").get(arm);
      assertThat(m.get("errors").asLong()).as(arm + " errors").isZero();
      assertThat(m.get("rerank_rps").asDouble()).as(arm).isPositive();
      assertThat(m.get("p99_ms").asDouble()).isGreaterThanOrEqualTo(m.get("p50_ms").asDouble());
      assertThat(m.get("http_cpu_us_per_request").asDouble()).isPositive();
    }
    assertThat(json.get("targets_met").isBoolean()).isTrue();
    for (String arm : new String[] {"performer", "softmax"}) {
      JsonNode m = json.get("by_arm").get(arm);
      for (String key : new String[] {"saturation_rps", "bound", "http_vs_inprocess",
          "p99_ms_at_50pct", "inprocess_floor_fraction", "inprocess_floor_us"}) {
        assertThat(m.get(key).asDouble()).as(arm + " " + key).isPositive();
      }
      // the open loop ran at each share of saturation, every request answered
      for (String share : new String[] {"25pct", "50pct", "75pct"}) {
        JsonNode o = m.get("open_loop").get(share);
        assertThat(o.get("errors").asLong()).as(arm + " " + share + " errors").isZero();
        assertThat(o.get("requests").asLong()).as(arm + " " + share).isPositive();
        assertThat(o.get("p999_ms").asDouble()).isGreaterThanOrEqualTo(
            o.get("p50_ms").asDouble());
      }
      assertThat(m.get("targets").size()).isEqualTo(3);
      // CPU per request counts the joins a phase's exposures caused after it ended too: the
      // report caught up with every answer (the drained figures are complete, not cut off)
      for (String path : new String[] {"http", "inprocess"}) {
        assertThat(m.get(path + "_drain_caught_up").asBoolean()).as(arm + " " + path).isTrue();
        assertThat(m.get(path + "_cpu_us_per_request_drained").asDouble()).as(arm + " " + path)
            .isGreaterThanOrEqualTo(m.get(path + "_cpu_us_per_request").asDouble());
        assertThat(m.get(path + "_drain_seconds").asDouble()).isGreaterThanOrEqualTo(0);
      }
      assertThat(m.get("bound_phase_rates").asDouble()).isPositive();
      assertThat(m.get("saturation_vs_bound").asDouble()).as(arm).isCloseTo(
          m.get("saturation_rps").asDouble() / m.get("bound").asDouble(),
          org.assertj.core.data.Offset.offset(0.01));
    }
    JsonNode probe = json.get("transport_probe");
    assertThat(probe.get("errors").asLong()).as("transport probe errors").isZero();
    assertThat(probe.get("rps").asDouble()).isPositive();
    assertThat(probe.get("cpu_us_per_request").asDouble()).isPositive();
    for (String arm : new String[] {"performer", "softmax"}) {
      assertThat(json.get("by_arm").get(arm).get("http_ratio_bound").asDouble())
          .isStrictlyBetween(0.0, 1.0);
    }
    // every answer's exposure reaches the durable report, whatever the producers logged
    JsonNode exposures = json.get("exposure_accounting");
    for (String arm : new String[] {"performer", "softmax"}) {
      assertThat(exposures.get(arm).get("answered").asLong()).as(arm + " answers").isPositive();
      assertThat(exposures.get(arm).get("in_report").asLong()).as(arm + " exposures in report")
          .isGreaterThanOrEqualTo(exposures.get(arm).get("answered").asLong());
    }
    assertThat(exposures.get("missing").asLong()).isZero();
    // freshness: every probe event reached a rerank answer over real HTTP, under load
    JsonNode fresh = json.get("freshness");
    assertThat(fresh.get("probes").asLong()).isPositive();
    assertThat(fresh.get("answered").asLong() + fresh.get("timed_out").asLong())
        .isEqualTo(fresh.get("probes").asLong());
    assertThat(fresh.get("answered").asLong()).as("probes answered").isPositive();
    assertThat(fresh.get("polls").asLong()).isGreaterThanOrEqualTo(fresh.get("answered")
        .asLong());
    assertThat(json.get("freshness_ms_p99").asDouble()).isGreaterThanOrEqualTo(
        json.get("freshness_ms_p50").asDouble()).isPositive();
    assertThat(fresh.get("rerank_load").get("requests").asLong()).isPositive();
    assertThat(fresh.get("ingest_events_produced").asLong()).isPositive();
    assertThat(json.get("freshness_target_met").isBoolean()).isTrue();
  }
}
