package dev.reranker.data;

/** An event that cannot be accepted; the message is the reason, fit for a log line or a DLQ header. */
public final class InvalidEventException extends Exception {
  private static final long serialVersionUID = 1L;

  /** What kind of fault, so that callers need not read the message. */
  public enum Kind {
    /** Not JSON, not an object, a missing or mistyped field, an invalid id, a bad version. */
    MALFORMED,
    /** An event type this build does not know. */
    UNKNOWN_EVENT_TYPE
  }

  private final Kind kind;

  public InvalidEventException(String reason) {
    this(Kind.MALFORMED, reason);
  }

  public InvalidEventException(Kind kind, String reason) {
    super(reason);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
