package dev.reranker.experiment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reranker.data.EventType;
import dev.reranker.data.Interaction;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The records the ingestion hands to the outcome join through its internal topic: what goes in
 * comes out (every event type, ids in any script, events without time), and bytes that are not
 * such a record are refused with a reason, never read as something else.
 */
class JoinInputFormatTest {

  @Test
  void anAppliedEventComesBackAsItWasWritten() {
    for (EventType type : EventType.values()) {
      Interaction e = new Interaction("użytkownik-7", "映画/42", 1_733_600_000_123L, type,
          "evt-" + type.wireName());
      assertThat(OutcomeStores.joinInput(OutcomeStores.joinInput(new OutcomeJoin.Interacted(e))))
          .isEqualTo(new OutcomeJoin.Interacted(e));
    }
    Interaction untimed = new Interaction("u", "i", Interaction.NO_TIMESTAMP, EventType.VIEW, "");
    assertThat(OutcomeStores.joinInput(OutcomeStores.joinInput(
        new OutcomeJoin.Interacted(untimed)))).isEqualTo(new OutcomeJoin.Interacted(untimed));
  }

  @Test
  void anIgnoredRecordKeepsItsReason() {
    OutcomeJoin.Ignored in = new OutcomeJoin.Ignored("timestamp_in_future");
    assertThat(OutcomeStores.joinInput(OutcomeStores.joinInput(in))).isEqualTo(in);
  }

  @Test
  void bytesThatAreNoJoinInputAreRefused() {
    byte[] full = OutcomeStores.joinInput(new OutcomeJoin.Interacted(new Interaction("user",
        "item", 5L, EventType.CLICK, "id")));
    // cut inside the time, the user and the item: each is a truncated record, not a shorter one
    for (int cut : new int[] {1, 5, 12, 15, 20}) {
      byte[] truncated = Arrays.copyOf(full, cut);
      assertThatThrownBy(() -> OutcomeStores.joinInput(truncated))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("truncated");
    }
    byte[] unknown = full.clone();
    unknown[0] = 9;
    assertThatThrownBy(() -> OutcomeStores.joinInput(unknown))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tag 9");
    byte[] badType = full.clone();
    badType[9] = 77;
    assertThatThrownBy(() -> OutcomeStores.joinInput(badType))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> OutcomeStores.joinInput(new byte[0]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty");
  }
}
