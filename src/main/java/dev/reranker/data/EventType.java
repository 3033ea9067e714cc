package dev.reranker.data;

import java.util.Locale;

/** The kinds of interaction the engine accepts. Unknown kinds are rejected, never guessed. */
public enum EventType {
  VIEW,
  CLICK,
  ADD_TO_CART,
  PURCHASE,
  RATING;

  /** The wire name: lower case ({@code add_to_cart}). */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Parses a wire name, case-insensitively.
   *
   * @throws IllegalArgumentException naming the accepted values
   */
  public static EventType parse(String name) {
    if (name != null) {
      for (EventType t : values()) {
        if (t.wireName().equalsIgnoreCase(name.trim())) {
          return t;
        }
      }
    }
    StringBuilder accepted = new StringBuilder();
    for (EventType t : values()) {
      accepted.append(accepted.isEmpty() ? "" : ", ").append(t.wireName());
    }
    throw new IllegalArgumentException("unknown event type '" + name + "' (accepted: " + accepted
        + ")");
  }
}
