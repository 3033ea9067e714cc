package dev.reranker.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Without a CUDA driver the bindings fail with a message that says what was tried, and why. */
class CudaUnavailableTest {

  @Test
  void aDriverPathThatDoesNotExistIsNamed() {
    GpuSettings settings = new GpuSettings("/nonexistent/libcuda.so.1", null, 1024, 0);
    assertThatThrownBy(() -> Cuda.open(settings)).isInstanceOf(GpuUnavailableException.class)
        .hasMessageContaining("/nonexistent/libcuda.so.1: no such file");
  }

  @Test
  void aLibraryThatIsNotTheDriverIsRefusedByItsMissingSymbols() throws Exception {
    Path libm = Files.exists(Path.of("/lib/x86_64-linux-gnu/libm.so.6"))
        ? Path.of("/lib/x86_64-linux-gnu/libm.so.6") : Path.of("/usr/lib64/libm.so.6");
    GpuSettings settings = new GpuSettings(libm.toString(), null, 1024, 0);
    assertThatThrownBy(() -> Cuda.open(settings)).isInstanceOf(GpuUnavailableException.class)
        .hasMessageContaining("has no symbol cuGetErrorName");
  }

  @Test
  void theSearchOrderTriesTheLoaderFirstThenTheUsualDirectories() {
    GpuSettings defaults = GpuSettings.defaults();
    assertThat(defaults.driverCandidates()).first().isEqualTo("libcuda.so.1");
    assertThat(defaults.cublasCandidates()).contains("libcublas.so.13", "libcublas.so.12",
        "/usr/local/cuda-13.0/targets/x86_64-linux/lib/libcublas.so.13");
    assertThat(defaults.cublasCandidates().indexOf("libcublas.so.13"))
        .isLessThan(defaults.cublasCandidates().indexOf("libcublas.so.12"));
    assertThat(new GpuSettings(null, "/opt/x/libcublas.so.13", 8, 0).cublasCandidates())
        .containsExactly("/opt/x/libcublas.so.13");
  }
}
