package dev.reranker.data;

/**
 * The one rule for ids (users, items, events, experiments), wherever they enter: Kafka events, REST
 * requests, admin calls. An id is 1 to {@value #MAX_LENGTH} UTF-16 units, not blank, a sequence of
 * Unicode scalar values (no lone surrogate: {@code "\ud800"} has no UTF-8 form and would be
 * written as {@code ?}, aliasing every other such id), and free of control characters (C0, DEL,
 * C1), which no real id holds and which break logs, headers and store keys. Ids are compared as
 * given: no normalisation, no trimming. Thread-safe, allocation-free.
 */
public final class Ids {
  private Ids() {}

  /** The longest id accepted, in UTF-16 units (at most 1,024 UTF-8 bytes). */
  public static final int MAX_LENGTH = 256;

  /** True when {@link #problem} finds nothing wrong (the fast check for hot paths). */
  public static boolean valid(String id) {
    return problem(id) == null;
  }

  /**
   * What is wrong with an id, as the end of a sentence that starts with its field name ("is
   * required", "contains a lone UTF-16 surrogate at index 3"), or null when it is valid.
   */
  public static String problem(String id) {
    if (id == null) {
      return "is required";
    }
    int n = id.length();
    if (n == 0) {
      return "must not be empty";
    }
    if (n > MAX_LENGTH) {
      return "is longer than " + MAX_LENGTH + " characters";
    }
    boolean blank = true;
    for (int i = 0; i < n; i++) {
      char c = id.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 < n && Character.isLowSurrogate(id.charAt(i + 1))) {
          i++;
          blank = false;
          continue;
        }
        return "contains a lone UTF-16 surrogate at index " + i + " (not a Unicode scalar value)";
      }
      if (Character.isLowSurrogate(c)) {
        return "contains a lone UTF-16 surrogate at index " + i + " (not a Unicode scalar value)";
      }
      if (c < 0x20 || (c >= 0x7f && c < 0xa0)) {
        return "contains a control character (U+" + String.format("%04X", (int) c) + ") at index "
            + i;
      }
      if (blank && (c > 0x20 && c < 0x7f // printable ASCII other than space: no table lookup
          || !Character.isWhitespace(c) && !Character.isSpaceChar(c))) {
        blank = false;
      }
    }
    return blank ? "must not be blank" : null;
  }
}
