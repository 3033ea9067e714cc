package dev.reranker.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** The kernels the jar ships: what the fatbin holds, and that it was built from today's source. */
class FatbinTest {

  @Test
  void theShippedFatbinHoldsHopperMachineCodeAndPtx() throws Exception {
    Fatbin fatbin = Fatbin.shipped();
    assertThat(fatbin.entries()).extracting(Fatbin.Entry::toString)
        .containsExactlyInAnyOrder("compute_90 PTX", "sm_90 ELF");
    assertThat(fatbin.entries()).allSatisfy(e -> assertThat(e.payloadBytes()).isPositive());
    assertThat(fatbin.runsOn(90)).as("H100/H200").isTrue();
    assertThat(fatbin.runsOn(100)).as("later GPUs, through the PTX").isTrue();
    assertThat(fatbin.runsOn(86)).as("no code for Ampere").isFalse();
  }

  @Test
  void theShippedFatbinIsBuiltFromTheCurrentSource() throws Exception {
    byte[] source = Files.readAllBytes(Path.of("src/main/cuda/favor_encoder.cu"));
    String actual = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(source));
    String recorded;
    try (var in = Fatbin.class.getClassLoader().getResourceAsStream(
        Fatbin.SOURCE_HASH_RESOURCE)) {
      assertThat(in).as(Fatbin.SOURCE_HASH_RESOURCE).isNotNull();
      recorded = new String(in.readAllBytes()).trim();
    }
    assertThat(recorded).as("src/main/cuda/favor_encoder.cu changed since the fatbin was built: "
        + "run gpu/build-fatbin.sh (needs nvcc) and commit the fatbin").isEqualTo(actual);
  }

  @Test
  void refusesWhatIsNotAFatbin() {
    assertThatThrownBy(() -> Fatbin.parse(new byte[] {0x7f, 'E', 'L', 'F', 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0})).hasMessageContaining("not a CUDA fatbin");
    byte[] truncated = java.util.Arrays.copyOf(shippedBytes(), 100);
    assertThatThrownBy(() -> Fatbin.parse(truncated)).hasMessageContaining("truncated");
  }

  /**
   * ND4J's CUDA build is machine code up to sm_86 and no PTX: a fatbin of that shape does not run
   * on Hopper, which is why this package exists.
   */
  @Test
  void machineCodeRunsOnlyWithinItsMajorVersion() {
    Fatbin ampereOnly = new Fatbin(new byte[0], java.util.List.of(new Fatbin.Entry(
        Fatbin.Kind.ELF, 80, 1), new Fatbin.Entry(Fatbin.Kind.ELF, 86, 1)));
    assertThat(ampereOnly.runsOn(86)).isTrue();
    assertThat(ampereOnly.runsOn(89)).isTrue();
    assertThat(ampereOnly.runsOn(90)).isFalse();
  }

  private static byte[] shippedBytes() {
    try {
      return Fatbin.shipped().image();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
