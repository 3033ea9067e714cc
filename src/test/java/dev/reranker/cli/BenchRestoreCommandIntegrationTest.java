package dev.reranker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@code bench restore} end to end, small (the figures are in docs/scaling.md). */
class BenchRestoreCommandIntegrationTest {

  @Test
  void measuresStoreSizesAndTheRestoreOfALostPartition(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("restore.json");
    int code = RerankerMain.commandLine().execute("bench", "restore", "--users", "50",
        "--events-per-user", "40", "--requests", "30", "--out", out.toString());
    assertThat(code).isZero();
    JsonNode json = JsonMapper.builder().build().readTree(Files.readString(out));
    JsonNode sizes = json.get("sizes");
    assertThat(sizes.get("history_rocksdb_bytes_per_event").asDouble()).isPositive();
    assertThat(sizes.get("snapshots_rocksdb_bytes_per_user").asDouble()).isPositive();
    assertThat(sizes.get("changelog_bytes_per_event").asDouble()).isPositive();
    assertThat(sizes.get("exposure_records").asLong()).isEqualTo(30);
    assertThat(sizes.get("exposure_record_bytes").asDouble()).isBetween(100.0, 5_000.0);
    JsonNode restore = json.get("restore");
    // every event's history record (and more: snapshots, experiment stores) comes back
    assertThat(restore.get("changelog_records_restored").asLong()).isGreaterThanOrEqualTo(2_000);
    assertThat(restore.get("start_to_ready_ms").asDouble())
        .isGreaterThanOrEqualTo(restore.get("restoration_ms").asDouble());
    assertThat(restore.get("records_per_second").asDouble()).isPositive();
  }
}
