package dev.reranker.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Reads the real MovieLens ml-latest-small from ../shared/data (skipped, with a message, when absent). */
class MovieLensSmallTest {

  static final Path RATINGS = Path.of("../shared/data/ml-latest-small/ratings.csv");

  static void assumeData() {
    // CI provides ../shared/data and sets RERANKER_REQUIRE_DATA=1: there a missing file fails
    if ("1".equals(System.getenv("RERANKER_REQUIRE_DATA"))) {
      org.assertj.core.api.Assertions.assertThat(Files.isRegularFile(RATINGS))
          .as("RERANKER_REQUIRE_DATA=1 but %s is missing", RATINGS.toAbsolutePath()).isTrue();
    }
    assumeTrue(Files.isRegularFile(RATINGS), "MovieLens ml-latest-small not found at "
        + RATINGS.toAbsolutePath() + ": skipping. It comes from GroupLens "
        + "(https://grouplens.org/datasets/movielens/latest/, ml-latest-small.zip, non-commercial "
        + "licence): unzip it into ../shared/data/ to run these tests; CI provides it");
  }

  @Test
  void readsAllRatingsWithoutBadLines() throws IOException {
    assumeData();
    ReadResult r = InteractionReaders.read(RATINGS, InteractionReaders.Format.MOVIELENS);
    assertThat(r.interactions()).hasSize(100_836);
    assertThat(r.badLines()).isEmpty();
    Dataset all = Dataset.build(r.interactions(), 0);
    assertThat(all.users()).hasSize(610);
    assertThat(all.items().size()).isEqualTo(9_724);
    assertThat(all.users().stream().mapToInt(Dataset.UserHistory::length).max()).hasValue(2_698);
    Dataset core = Dataset.build(r.interactions(), 5);
    assertThat(core.users()).hasSize(610);
    assertThat(core.items().size()).isEqualTo(3_650);
    for (Dataset.UserHistory u : core.users()) {
      for (int i = 1; i < u.length(); i++) {
        assertThat(u.timestamps()[i]).isGreaterThanOrEqualTo(u.timestamps()[i - 1]);
      }
    }
  }
}
