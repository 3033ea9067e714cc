package dev.reranker.gpu;

/** No usable GPU: the message says what was tried and why it failed (one log line's worth). */
public final class GpuUnavailableException extends Exception {
  private static final long serialVersionUID = 1L;

  public GpuUnavailableException(String message) {
    super(message);
  }

  public GpuUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
