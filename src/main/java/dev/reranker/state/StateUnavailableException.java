package dev.reranker.state;

/** The stores holding a user's history are not readable here right now (e.g. a rebalance). */
public final class StateUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public StateUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
