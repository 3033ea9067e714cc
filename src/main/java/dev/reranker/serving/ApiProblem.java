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

  /** Echoed input is cut to this many characters. */
  static final int ECHO_CHARS = 64;

  /**
   * Input as a problem's detail may quote it: control characters shown as '?', cut to {@value
   * #ECHO_CHARS} characters with the full length said, so an answer never grows with what a caller
   * sent (a 300-character id came back whole).
   */
  static String echo(String input) {
    if (input == null) {
      return "null";
    }
    String cut = input.length() <= ECHO_CHARS ? input : input.substring(0, ECHO_CHARS);
    StringBuilder b = new StringBuilder(cut.length() + 32);
    for (int i = 0; i < cut.length(); i++) {
      char c = cut.charAt(i);
      b.append(Character.isISOControl(c) ? '?' : c);
    }
    if (cut.length() < input.length()) {
      b.append("… (").append(input.length()).append(" characters)");
    }
    return b.toString();
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
