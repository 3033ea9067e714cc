package dev.reranker.training;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The code version a model or a benchmark records. */
class ProvenanceTest {

  private static final String COMMIT = "[0-9a-f]{40}(-dirty)?";

  @Test
  void aCheckoutGivesItsCommitAndADirectoryOutsideAnyGivesUnknown(@TempDir Path outside) {
    // the tests run in the checkout (a clone in CI)
    assertThat(Provenance.gitCommit(Path.of("").toAbsolutePath())).matches(COMMIT);
    assertThat(Provenance.gitCommit()).matches(COMMIT);
    assertThat(Provenance.gitCommit(outside)).isEqualTo("unknown");
    assertThat(Provenance.gitCommit(outside.resolve("absent"))).isEqualTo("unknown");
    assertThat(Provenance.gitCommit(null)).isEqualTo("unknown");
  }

  @Test
  void theCodeLocationIsReadInEachFormTheJvmGivesIt() {
    assertThat(Provenance.codeLocation("file:/w/main/target/classes/"))
        .isEqualTo(Path.of("/w/main/target/classes"));
    assertThat(Provenance.codeLocation("file:/w/main/target/reranker.jar"))
        .isEqualTo(Path.of("/w/main/target/reranker.jar"));
    assertThat(Provenance.codeLocation(
        "jar:nested:/w/main/target/reranker.jar/!BOOT-INF/classes/!/"))
        .isEqualTo(Path.of("/w/main/target/reranker.jar"));
    assertThat(Provenance.codeLocation("file:/w/with%20space/c+plus/classes/"))
        .isEqualTo(Path.of("/w/with space/c+plus/classes"));
    assertThat(Provenance.codeLocation("file:/w/lib.jars/main/target/classes/"))
        .isEqualTo(Path.of("/w/lib.jars/main/target/classes"));
    assertThat(Provenance.codeLocation("http://example.com/x.jar")).isNull();
  }
}
