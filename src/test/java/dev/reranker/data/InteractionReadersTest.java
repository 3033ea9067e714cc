package dev.reranker.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.StringReader;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The readers: good lines become events, every bad line is reported with its number and reason. */
class InteractionReadersTest {

  static ReadResult read(String text, InteractionReaders.Format format) throws IOException {
    return InteractionReaders.read(new StringReader(text), "test", format);
  }

  @Test
  void movieLensLinesAndTheirErrors() throws IOException {
    ReadResult r = read("""
        userId,movieId,rating,timestamp
        1,31,2.5,1260759144
        1,1029,3.0,1260759179
        2,abc
        2,10,x,1260759179
        2,10,4.0,soon
        3,11,9.0,1260759179

        ,12,4.0,1260759179
        4,13,4.0,1260759180
        """, InteractionReaders.Format.MOVIELENS);
    assertThat(r.interactions()).hasSize(3);
    assertThat(r.interactions().get(0)).isEqualTo(new Interaction("1", "31", 1_260_759_144_000L,
        EventType.RATING, "ml-2"));
    assertThat(r.lines()).isEqualTo(8);
    assertThat(r.badLines()).extracting(ReadResult.BadLine::lineNumber)
        .containsExactly(4L, 5L, 6L, 7L, 9L);
    assertThat(r.badLines().get(0).reason()).contains("expected 4 comma-separated fields");
    assertThat(r.badLines().get(1).reason()).contains("rating is not a number");
    assertThat(r.badLines().get(2).reason()).contains("timestamp is not an integer");
    assertThat(r.badLines().get(3).reason()).contains("rating must be in [0, 5]");
    assertThat(r.badLines().get(4).reason()).contains("empty userId");
    assertThat(r.summary()).contains("3 events from 8 lines, 5 bad", "line 4:");
  }

  @Test
  void sasRecLines() throws IOException {
    ReadResult r = read("1 5\n1 7\n2  9\n3\n4 5 6\n", InteractionReaders.Format.SASREC);
    assertThat(r.interactions()).extracting(Interaction::itemId).containsExactly("5", "7", "9");
    assertThat(r.interactions().get(0).hasTimestamp()).isFalse();
    assertThat(r.badLines()).extracting(ReadResult.BadLine::lineNumber).containsExactly(4L, 5L);
  }

  @Test
  void jsonLinesWithEveryKindOfError() throws IOException {
    String good = "{\"schemaVersion\":1,\"eventId\":\"e1\",\"userId\":\"u1\",\"itemId\":\"i1\","
        + "\"timestamp\":1700000000000,\"eventType\":\"view\"}";
    ReadResult r = read(String.join("\n", List.of(
        good,
        "{\"eventId\":7,\"userId\":42,\"itemId\":\"i2\",\"timestamp\":1,\"eventType\":\"PURCHASE\"}",
        "{not json",
        "[1,2]",
        "{\"eventId\":\"e3\",\"userId\":\"u1\",\"timestamp\":1,\"eventType\":\"view\"}",
        "{\"eventId\":\"e4\",\"userId\":\"u1\",\"itemId\":\"i\",\"timestamp\":\"x\",\"eventType\":\"view\"}",
        "{\"eventId\":\"e5\",\"userId\":\"u1\",\"itemId\":\"i\",\"timestamp\":1,\"eventType\":\"like\"}",
        "{\"schemaVersion\":2,\"eventId\":\"e6\",\"userId\":\"u1\",\"itemId\":\"i\",\"timestamp\":1,\"eventType\":\"view\"}",
        "{\"eventId\":\"\",\"userId\":\"u1\",\"itemId\":\"i\",\"timestamp\":1,\"eventType\":\"view\"}",
        "{\"eventId\":\"e7\",\"userId\":\"u1\",\"itemId\":\"i\",\"timestamp\":-5,\"eventType\":\"view\"}")),
        InteractionReaders.Format.JSONL);
    assertThat(r.interactions()).hasSize(2);
    assertThat(r.interactions().get(1)).isEqualTo(new Interaction("42", "i2", 1,
        EventType.PURCHASE, "7"));
    assertThat(r.badLines()).extracting(ReadResult.BadLine::reason).containsExactly(
        "malformed JSON: " + r.badLines().get(0).reason().substring(16),
        "event must be a JSON object",
        "missing field 'itemId'",
        "field 'timestamp' must be an integer (epoch milliseconds), got \"x\"",
        "unknown event type 'like' (accepted: view, click, add_to_cart, purchase, rating)",
        "unsupported schemaVersion 2 (this build reads 1)",
        "field 'eventId' must not be empty",
        "field 'timestamp' must be ≥ 0, got -5");
    assertThat(r.badLines()).extracting(ReadResult.BadLine::lineNumber)
        .containsExactly(3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
  }

  @Test
  void jsonRoundTrip() throws InvalidEventException {
    Interaction e = new Interaction("u-1", "sku \"9\"", 123L, EventType.ADD_TO_CART, "id-1");
    assertThat(InteractionJson.parse(InteractionJson.toJson(e))).isEqualTo(e);
  }

  @Test
  void unknownFormatIsAClearError() {
    assertThatThrownBy(() -> InteractionReaders.Format.parse("csv"))
        .hasMessageContaining("accepted: movielens, sasrec, jsonl");
  }
}
