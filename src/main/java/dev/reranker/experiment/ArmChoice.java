package dev.reranker.experiment;

import dev.reranker.model.Arm;
import java.util.Locale;

/** What an experiment can serve a user: one of the model arms, or the popularity fallback. */
public enum ArmChoice {
  PERFORMER(Arm.PERFORMER),
  SOFTMAX(Arm.SOFTMAX),
  FALLBACK(null);

  private final Arm arm;

  ArmChoice(Arm arm) {
    this.arm = arm;
  }

  /** The model arm, or null for the fallback. */
  public Arm arm() {
    return arm;
  }

  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static ArmChoice parse(String s) {
    for (ArmChoice a : values()) {
      if (a.wireName().equalsIgnoreCase(s == null ? "" : s.trim())) {
        return a;
      }
    }
    throw new IllegalArgumentException("unknown arm '" + s + "' (accepted: performer, softmax, "
        + "fallback)");
  }
}
