package dev.reranker.data;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reranker.testing.Seeds;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Properties of the id rule: what it accepts survives UTF-8 unchanged, so no two ids alias. */
class IdsPropertyTest {

  @Test
  void acceptedIdsRoundTripThroughUtf8AndRejectedOnesSayWhy() throws Exception {
    Seeds.forAll("IdsPropertyTest", 20_000, (r, i) -> {
      String id = Seeds.edgyString(r, r.nextBoolean() ? 8 : 300);
      String problem = Ids.problem(id);
      boolean roundTrips = new String(id.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8)
          .equals(id);
      boolean controls = id.chars().anyMatch(c -> c < 0x20 || (c >= 0x7f && c < 0xa0));
      boolean expectedValid = !id.isEmpty() && id.length() <= Ids.MAX_LENGTH && roundTrips
          && !controls && !id.isBlank();
      assertThat(problem == null).as("'%s' (%d units): %s", escape(id), id.length(), problem)
          .isEqualTo(expectedValid);
      assertThat(Ids.valid(id)).isEqualTo(problem == null);
      if (problem != null) {
        assertThat(problem).isNotBlank();
      }
    });
  }

  @Test
  void surrogatePairsAreValidLoneOnesAreNot() {
    assertThat(Ids.valid("user-\uD83D\uDE00")).isTrue(); // an emoji: a proper pair
    assertThat(Ids.problem("\ud800")).contains("lone UTF-16 surrogate");
    assertThat(Ids.problem("\udfff")).contains("lone UTF-16 surrogate");
    assertThat(Ids.problem("a\uDE00\uD83D")).contains("index 1"); // reversed pair
    assertThat(Ids.problem("a\u0000")).contains("control character");
    assertThat(Ids.problem("\u3000")).contains("blank"); // ideographic space
    assertThat(Ids.problem("")).contains("empty");
    assertThat(Ids.problem(null)).contains("required");
  }

  static String escape(String s) {
    StringBuilder b = new StringBuilder();
    s.chars().forEach(c -> b.append(c < 0x20 || c > 0x7e ? String.format("\\u%04x", c)
        : String.valueOf((char) c)));
    return b.toString();
  }
}
