package dev.reranker.serving;

/** A request that fails validation: becomes a 400 problem+json naming the field. */
public final class BadRequestException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final String field;
  private final int status;

  public BadRequestException(String field, String message) {
    this(400, field, message);
  }

  public BadRequestException(int status, String field, String message) {
    super(message);
    this.field = field;
    this.status = status;
  }

  public String field() {
    return field;
  }

  public int status() {
    return status;
  }
}
