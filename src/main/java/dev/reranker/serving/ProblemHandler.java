package dev.reranker.serving;

import java.net.URI;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.exc.MismatchedInputException;

/**
 * Every error as RFC 9457 problem+json: 4xx naming the field for anything the caller sent wrong
 * (malformed JSON, wrong types, missing or invalid fields, unknown experiment, oversized bodies),
 * Spring MVC's own 4xx (wrong method, media type …) as problems too, and 500 only for faults of
 * ours, logged.
 */
@RestControllerAdvice
class ProblemHandler extends ResponseEntityExceptionHandler {

  private static final Logger log = LoggerFactory.getLogger(ProblemHandler.class);

  @ExceptionHandler(ApiProblem.class)
  ResponseEntity<ProblemDetail> apiProblem(ApiProblem e) {
    return problem(HttpStatus.valueOf(e.status()), e.type(), e.getMessage(), e.field());
  }

  @Override
  protected ResponseEntity<Object> handleHttpMessageNotReadable(HttpMessageNotReadableException e,
      HttpHeaders headers, HttpStatusCode status, WebRequest request) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof RequestGuards.BodyReadTimeout) { // a trickled body: the connection goes
        ResponseEntity<ProblemDetail> p = problem(HttpStatus.REQUEST_TIMEOUT, "request-timeout",
            "the request body did not arrive in time", "body");
        return ResponseEntity.status(p.getStatusCode()).headers(p.getHeaders())
            .header(HttpHeaders.CONNECTION, "close").body(p.getBody());
      }
      if (t instanceof RequestGuards.BadEncoding bad) {
        ResponseEntity<ProblemDetail> p = problem(HttpStatus.BAD_REQUEST, "unreadable-body",
            bad.getMessage(), "body");
        return ResponseEntity.status(p.getStatusCode()).headers(p.getHeaders()).body(p.getBody());
      }
      if (t instanceof RequestGuards.BodyTooLarge) { // a chunked body that outgrew the limit
        ResponseEntity<ProblemDetail> p = problem(HttpStatus.CONTENT_TOO_LARGE,
            "payload-too-large", "request body exceeds the size limit", "body");
        return ResponseEntity.status(p.getStatusCode()).headers(p.getHeaders()).body(p.getBody());
      }
    }
    Throwable cause = e.getMostSpecificCause();
    String field = "body";
    String detail;
    // details name fields and JSON types, never Java types or signatures
    String duplicate = cause instanceof JacksonException je ? duplicateField(je) : null;
    if (duplicate != null) {
      field = duplicate;
      detail = "field '" + duplicate + "' appears more than once";
    } else if (cause instanceof MismatchedInputException mie && !mie.getPath().isEmpty()) {
      field = path(mie.getPath());
      detail = "field '" + field + "' must be " + expected(mie.getTargetType());
    } else if (cause instanceof tools.jackson.core.exc.StreamReadException je) {
      field = je.getPath().isEmpty() ? "body" : path(je.getPath());
      detail = "malformed JSON: " + firstLine(je.getOriginalMessage());
    } else if (cause instanceof JacksonException je && !je.getPath().isEmpty()) {
      field = path(je.getPath());
      detail = "field '" + field + "' has the wrong type or format";
    } else if (cause instanceof MismatchedInputException) {
      detail = "the request body must be a JSON object";
    } else if (e.getMessage() != null && e.getMessage().startsWith("Required request body")) {
      detail = "a JSON request body is required";
    } else {
      detail = "the request body could not be read as JSON";
    }
    ResponseEntity<ProblemDetail> p = problem(HttpStatus.BAD_REQUEST, "unreadable-body", detail,
        field);
    return ResponseEntity.status(p.getStatusCode()).headers(p.getHeaders()).body(p.getBody());
  }

  @Override
  protected ResponseEntity<Object> handleExceptionInternal(Exception ex, Object body,
      HttpHeaders headers, HttpStatusCode statusCode, WebRequest request) {
    ResponseEntity<Object> r = super.handleExceptionInternal(ex, body, headers, statusCode,
        request);
    HttpHeaders h = new HttpHeaders();
    if (r != null) {
      h.putAll(r.getHeaders());
    }
    h.setContentType(MediaType.APPLICATION_PROBLEM_JSON);
    return r == null ? null : ResponseEntity.status(r.getStatusCode()).headers(h).body(r.getBody());
  }

  @ExceptionHandler(Exception.class)
  ResponseEntity<ProblemDetail> unexpected(Exception e) {
    log.error("request failed", e);
    return problem(HttpStatus.INTERNAL_SERVER_ERROR, "internal", "the server failed to handle the"
        + " request; it is logged", null);
  }

  static ResponseEntity<ProblemDetail> problem(HttpStatus status, String type, String detail,
      String field) {
    ProblemDetail p = ProblemDetail.forStatusAndDetail(status, detail);
    p.setType(URI.create(Problems.TYPE_BASE + type));
    p.setTitle(Problems.title(status.value()));
    if (field != null) {
      p.setProperty("field", field);
    }
    return ResponseEntity.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON).body(p);
  }

  /** The field a strict parser found twice, or null. */
  private static String duplicateField(JacksonException e) {
    String m = e.getOriginalMessage();
    if (m == null || !m.startsWith("Duplicate Object property")) {
      return null;
    }
    int a = m.indexOf('"');
    int b = a < 0 ? -1 : m.indexOf('"', a + 1);
    String name = b > a ? m.substring(a + 1, b) : "body";
    return e.getPath().isEmpty() ? name : path(e.getPath()) + "." + name;
  }

  /** A JSON type for a Java target type. */
  private static String expected(Class<?> type) {
    if (type == null) {
      return "of another type";
    }
    if (type == Integer.class || type == int.class || type == Long.class || type == long.class
        || type == Short.class || type == short.class) {
      return "an integer";
    }
    if (Number.class.isAssignableFrom(type) || type == double.class || type == float.class) {
      return "a number";
    }
    if (type == String.class || type == CharSequence.class) {
      return "a string";
    }
    if (type == Boolean.class || type == boolean.class) {
      return "a boolean";
    }
    if (java.util.Collection.class.isAssignableFrom(type) || type.isArray()) {
      return "an array";
    }
    return "an object";
  }

  private static String path(List<JacksonException.Reference> path) {
    StringBuilder b = new StringBuilder();
    for (JacksonException.Reference r : path) {
      if (r.getPropertyName() != null) {
        if (!b.isEmpty()) {
          b.append('.');
        }
        b.append(r.getPropertyName());
      } else if (r.getIndex() >= 0) {
        b.append('[').append(r.getIndex()).append(']');
      }
    }
    return b.isEmpty() ? "body" : b.toString();
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    String line = nl < 0 ? s : s.substring(0, nl);
    return line.length() <= 160 ? line : line.substring(0, 157) + "...";
  }
}
