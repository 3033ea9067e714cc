package dev.reranker.data;

/** An event that cannot be accepted; the message is the reason, fit for a log line or a DLQ header. */
public final class InvalidEventException extends Exception {
  private static final long serialVersionUID = 1L;

  public InvalidEventException(String reason) {
    super(reason);
  }
}
