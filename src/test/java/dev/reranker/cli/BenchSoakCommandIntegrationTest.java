package dev.reranker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code bench soak} end to end, for half a minute: the samples, the CSV, a well-formed SVG, no
 * request errors and every event ingested (the 10-minute run's figures are in docs/soak.md).
 */
class BenchSoakCommandIntegrationTest {

  @Test
  void samplesMemoryGcAndLatencyAndWritesCsvAndPlot(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("soak.json");
    Path csv = dir.resolve("soak.csv");
    Path svg = dir.resolve("soak.svg");
    int code = RerankerMain.commandLine().execute("bench", "soak", "--minutes", "0.5",
        "--sample-seconds", "5", "--users", "500", "--events-per-second", "100",
        "--requests-per-second", "40", "--threads", "2", "--candidates", "50", "--cache-mb", "4",
        "--rocksdb-mb", "32", "--preload-events-per-user", "2",
        "--out", out.toString(), "--csv", csv.toString(), "--svg", svg.toString(),
        "--reranker.serving.deadline=2s");
    assertThat(code).isZero();
    JsonNode json = JsonMapper.builder().build().readTree(Files.readString(out));
    JsonNode samples = json.get("samples");
    assertThat(samples.size()).isEqualTo(6);
    for (JsonNode s : samples) {
      assertThat(s.get("rss_mb").asDouble()).isPositive();
      assertThat(s.get("heap_used_mb").asDouble()).isPositive();
      assertThat(s.get("requests").asLong()).isPositive();
    }
    assertThat(samples.get(0).get("live_heap_mb").asDouble()).isPositive(); // a fifth of the run
    assertThat(samples.get(3).get("live_heap_mb").isNull()).isTrue();
    assertThat(samples.get(5).get("live_heap_mb").asDouble()).isPositive();
    JsonNode summary = json.get("summary");
    assertThat(summary.get("errors").asLong()).isZero();
    // within the 4 MiB budget, give or take the entries being evicted right then: Caffeine's
    // maximumWeight may be exceeded "temporarily while evicting" (its documented contract; CI
    // sampled 4.009 MiB once). Unbounded, 500 users' states would be several times the budget.
    assertThat(samples.get(5).get("cache_mb").asDouble()).as("states cached").isPositive()
        .isLessThanOrEqualTo(4.0 * 1.05);
    // 40/s for 30 s: the pacer never sends ahead of its schedule (a promise), and a loaded machine
    // may fall behind it (not one): bounded above, and every sample above served some
    double lastSampleSeconds = samples.get(5).get("seconds").asDouble();
    assertThat(summary.get("requests").asLong()).isPositive()
        .isLessThanOrEqualTo((long) Math.ceil(40 * (lastSampleSeconds + 1)) + 2);
    assertThat(summary.get("events_ingested").asLong()).isPositive();
    assertThat(summary.get("memory_flat").isBoolean()).isTrue();
    assertThat(summary.get("rss_mb").get("mean").asDouble()).isPositive();
    // RocksDB's usage read from Kafka Streams' metrics, within the budget given
    assertThat(samples.get(5).get("rocksdb_mb").asDouble()).isPositive().isLessThanOrEqualTo(34);
    assertThat(samples.get(5).get("heap_committed_mb").asDouble())
        .isGreaterThanOrEqualTo(samples.get(5).get("heap_used_mb").asDouble());
    List<String> lines = Files.readAllLines(csv);
    assertThat(lines).hasSize(7);
    assertThat(lines.get(0)).startsWith("seconds,rss_mb,");
    var doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(svg.toFile());
    assertThat(doc.getDocumentElement().getNodeName()).isEqualTo("svg");
    assertThat(doc.getElementsByTagName("polyline").getLength()).isGreaterThanOrEqualTo(10);
  }
}
