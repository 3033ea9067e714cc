package dev.reranker.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reranker.testing.CudaEmulation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The device check's packaging, here, without a GPU: gpu/prepare-device-check.sh builds the carry
 * (a jlink'd java.base JDK, the classes, four jars: no ND4J natives) within the device tool's
 * 64 MiB with the tree, and the check runs on it end to end, quick sizes, against the host
 * emulation of CUDA. What only a GPU can show is gpu/device-check.sh's, on a lent machine.
 */
class GpuDeviceCheckHarnessIntegrationTest {

  @Test
  void theCarryFitsAndTheCheckRunsOnItWithoutNd4jNatives() throws Exception {
    CudaEmulation.library(); // skips without a C compiler, unless CI requires one
    Process p = new ProcessBuilder("bash", "gpu/prepare-device-check.sh", "--emulate")
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    Matcher sizes = Pattern.compile("carry: (\\d+) bytes; tracked tree: (\\d+) bytes").matcher(out);
    assertThat(sizes.find()).as(out).isTrue();
    long total = Long.parseLong(sizes.group(1)) + Long.parseLong(sizes.group(2));
    assertThat(total).as("carry + tree, bytes").isLessThan(60L << 20);
    assertThat(out).contains("device: host emulation (not a GPU)")
        .contains("RESULT all correctness checks passed");
    assertThat(Files.list(Path.of("gpu/carry/lib")).map(f -> f.getFileName().toString()))
        .allMatch(name -> !name.contains("native") && !name.contains("javacpp"))
        .anyMatch(name -> name.startsWith("reranker-classes"));
    JsonNode json = JsonMapper.builder().build().readTree(Path.of(
        "target/device-check-emulated.json").toFile());
    assertThat(json.get("fold_check").size()).isEqualTo(6); // 2 models × (fp32, tf32, backend)
    assertThat(json.get("reencode_check").get("max_abs_user_vector").asDouble()).isLessThan(1e-4);
    assertThat(json.get("fold_speed").size()).isEqualTo(2);
    assertThat(json.get("encode_speed").size()).isEqualTo(4);
    assertThat(json.get("failures").size()).isZero();
  }
}
