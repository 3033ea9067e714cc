package dev.reranker.ingest;

/** Why a record went to the dead-letter topic. */
public record Rejection(Code code, String reason) {

  /** Stable reason codes (the DLQ's {@code reason-code} header and the metric's tag). */
  public enum Code {
    EMPTY,
    OVERSIZED,
    MISSING_KEY,
    KEY_MISMATCH,
    MALFORMED,
    UNKNOWN_EVENT_TYPE,
    FUTURE_TIMESTAMP;

    public String wireName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }
}
