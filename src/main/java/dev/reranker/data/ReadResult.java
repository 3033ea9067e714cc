package dev.reranker.data;

import java.util.List;

/**
 * What a reader produced from one source: the good events, and every bad line with its number and
 * reason. Bad lines are never dropped silently: callers report them ({@link #summary()}).
 *
 * @param source a name for the source (a path)
 * @param lines data lines read (a header line is not counted)
 * @param interactions the events parsed, in source order
 * @param badLines the lines that could not be parsed
 */
public record ReadResult(String source, long lines, List<Interaction> interactions,
    List<BadLine> badLines) {

  /** A line that could not be parsed. */
  public record BadLine(long lineNumber, String reason, String text) {
    @Override
    public String toString() {
      return "line " + lineNumber + ": " + reason + " [" + text + "]";
    }
  }

  /** One paragraph for logs: counts and the first bad lines. */
  public String summary() {
    StringBuilder b = new StringBuilder();
    b.append(source).append(": ").append(interactions.size()).append(" events from ").append(lines)
        .append(" lines, ").append(badLines.size()).append(" bad");
    int shown = Math.min(10, badLines.size());
    for (int i = 0; i < shown; i++) {
      b.append("\n  ").append(badLines.get(i));
    }
    if (badLines.size() > shown) {
      b.append("\n  … and ").append(badLines.size() - shown).append(" more");
    }
    return b.toString();
  }
}
