package dev.reranker.serving;

import java.nio.charset.StandardCharsets;

/**
 * The one place problem+json (RFC 9457) is written outside Spring MVC's own handling: in servlet
 * filters (request guards, security), on the error page, in Tomcat's error report. Every problem
 * has {@code type}, {@code title}, {@code status} and {@code detail}, and {@code field} when a
 * field of the request is at fault; text is JSON-escaped.
 */
public final class Problems {
  private Problems() {}

  /** The base of every problem type URI. */
  public static final String TYPE_BASE = "https://reranker.dev/problems/";
  public static final String MEDIA_TYPE = "application/problem+json";

  /** The problem type for a status without a more specific one. */
  public static String typeFor(int status) {
    return switch (status) {
      case 400 -> "invalid-request";
      case 401 -> "unauthorized";
      case 403 -> "forbidden";
      case 404 -> "not-found";
      case 405 -> "method-not-allowed";
      case 406 -> "not-acceptable";
      case 413 -> "payload-too-large";
      case 415 -> "unsupported-media-type";
      case 429 -> "overloaded";
      case 503 -> "unavailable";
      default -> status >= 500 ? "internal" : "invalid-request";
    };
  }

  /** The HTTP reason phrase, as the problem's title. */
  public static String title(int status) {
    try {
      return org.springframework.http.HttpStatus.valueOf(status).getReasonPhrase();
    } catch (IllegalArgumentException e) {
      return status >= 500 ? "Server Error" : "Client Error";
    }
  }

  /** The problem document. */
  public static String json(int status, String type, String detail, String field) {
    StringBuilder b = new StringBuilder(160);
    b.append("{\"type\":\"").append(TYPE_BASE).append(escape(type)).append("\",\"title\":\"")
        .append(escape(title(status))).append("\",\"status\":").append(status)
        .append(",\"detail\":\"").append(escape(detail)).append('"');
    if (field != null) {
      b.append(",\"field\":\"").append(escape(field)).append('"');
    }
    return b.append('}').toString();
  }

  public static byte[] bytes(int status, String type, String detail, String field) {
    return json(status, type, detail, field).getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Writes the problem as the whole response (a response already committed is left alone: its
   * status and headers are gone).
   */
  public static void write(jakarta.servlet.http.HttpServletResponse response, int status,
      String type, String detail, String field) throws java.io.IOException {
    if (response.isCommitted()) {
      return;
    }
    response.resetBuffer();
    response.setStatus(status);
    response.setContentType(MEDIA_TYPE);
    response.getOutputStream().write(bytes(status, type, detail, field));
  }

  static String escape(String s) {
    if (s == null) {
      return "";
    }
    StringBuilder b = new StringBuilder(s.length() + 8);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20 || Character.isSurrogate(c)) {
            // a lone surrogate from the caller's input must not make the document invalid UTF-8
            boolean pair = Character.isHighSurrogate(c) && i + 1 < s.length()
                && Character.isLowSurrogate(s.charAt(i + 1));
            if (pair) {
              b.append(c).append(s.charAt(++i));
            } else {
              b.append(String.format("\\u%04x", (int) c));
            }
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.toString();
  }
}
