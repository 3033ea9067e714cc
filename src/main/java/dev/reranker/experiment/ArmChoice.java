package dev.reranker.experiment;

import dev.reranker.model.Arm;
import java.util.Locale;

/**
 * What an experiment serves a user: one of the model arms, or the popularity fallback. The one arm
 * type from the assignment through the reranking, the exposure and the outcome to the report; on
 * the wire (JSON, metric tags, the exposures topic) its {@link #wireName()}.
 */
public enum ArmChoice {
  PERFORMER(Arm.PERFORMER),
  SOFTMAX(Arm.SOFTMAX),
  FALLBACK(null),
  /**
   * Both model arms, Team-Draft interleaved into one list ({@link TeamDraftInterleaving}): the
   * user's interaction credits the arm whose item it was. An experiment whose weights give it
   * all the buckets is an interleaving experiment; beside A/B arms it runs both on one traffic.
   */
  INTERLEAVED(null);

  private final Arm arm;

  ArmChoice(Arm arm) {
    this.arm = arm;
  }

  /** The served arm of a model arm. */
  public static ArmChoice of(Arm arm) {
    return arm == Arm.PERFORMER ? PERFORMER : SOFTMAX;
  }

  /** The model arm, or null for the fallback and the interleaved pair. */
  public Arm arm() {
    return arm;
  }

  @com.fasterxml.jackson.annotation.JsonValue
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  @com.fasterxml.jackson.annotation.JsonCreator
  public static ArmChoice parse(String s) {
    for (ArmChoice a : values()) {
      if (a.wireName().equalsIgnoreCase(s == null ? "" : s.trim())) {
        return a;
      }
    }
    throw new IllegalArgumentException("unknown arm '" + s + "' (accepted: performer, softmax, "
        + "fallback, interleaved)");
  }
}
