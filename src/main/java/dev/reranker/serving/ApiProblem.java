package dev.reranker.serving;

/**
 * A request the API answers with an RFC 9457 problem (problem+json, {@link Problems}): the status,
 * the problem type (the last segment of its {@link Problems#TYPE_BASE} URI), the detail, and the
 * request field at fault. Thrown by controllers and validation; {@code ProblemHandler} writes it.
 */
final class ApiProblem extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final String type;
  private final String field;

  private ApiProblem(int status, String type, String field, String detail) {
    super(detail);
    this.status = status;
    this.type = type;
    this.field = field;
  }

  /** 400: a field of the request is invalid. */
  public static ApiProblem invalid(String field, String detail) {
    return new ApiProblem(400, "invalid-field", field, detail);
  }

  /** 404: what the field names does not exist (an experiment, a user's history, a model). */
  public static ApiProblem notFound(String field, String detail) {
    return new ApiProblem(404, "not-found", field, detail);
  }

  /** 503: the request is fine but cannot be served now; retrying later may succeed. */
  public static ApiProblem unavailable(String field, String detail) {
    return new ApiProblem(503, "unavailable", field, detail);
  }

  public int status() {
    return status;
  }

  public String type() {
    return type;
  }

  /** The request field at fault (a JSON path, a header or a path variable), or null. */
  public String field() {
    return field;
  }
}
