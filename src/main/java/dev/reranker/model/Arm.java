package dev.reranker.model;

import java.util.Locale;

/** Which attention a model uses: the two arms of the A/B test differ only in this. */
public enum Arm {
  /** Causal FAVOR+ (Performer): constant-size per-user state. */
  PERFORMER,
  /** Exact causal softmax attention: the baseline, a KV cache that grows with the history. */
  SOFTMAX;

  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Arm parse(String s) {
    for (Arm a : values()) {
      if (a.wireName().equalsIgnoreCase(s == null ? "" : s.trim())) {
        return a;
      }
    }
    throw new IllegalArgumentException("unknown attention '" + s + "' (accepted: performer, "
        + "softmax)");
  }
}
