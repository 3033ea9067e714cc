package dev.reranker.serving;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.concurrent.Semaphore;
import org.springframework.http.HttpHeaders;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Protects the API before any work is done: request bodies over the size limit get 413 (checked on
 * Content-Length, and while reading a chunked body), and requests beyond the concurrency limit get
 * 429 with Retry-After at once rather than queueing until they time out (both on {@code /v1/*} and
 * {@code /admin/*}); a Content-Type that is no concrete media type gets 415 on every path, and so
 * does a Content-Encoding other than identity or gzip (a gzip body is decompressed, its
 * decompressed size bounded by the same limit). All answer in problem+json.
 */
public final class RequestGuards extends OncePerRequestFilter {

  private final long maxBodyBytes;
  private final Semaphore inFlight;
  private final long bodyReadTimeoutNanos;

  public RequestGuards(long maxBodyBytes, int maxConcurrentRequests) {
    this(maxBodyBytes, maxConcurrentRequests, java.time.Duration.ofSeconds(10));
  }

  /**
   * @param bodyReadTimeout the whole request body must have arrived this long after the request
   *     began (408 otherwise). Tomcat's timeouts bound each read, not the body: a body trickled a
   *     byte every 100 ms held a request thread for 30 s and more
   */
  public RequestGuards(long maxBodyBytes, int maxConcurrentRequests,
      java.time.Duration bodyReadTimeout) {
    this.maxBodyBytes = maxBodyBytes;
    this.inFlight = new Semaphore(maxConcurrentRequests);
    this.bodyReadTimeoutNanos = bodyReadTimeout.toNanos();
  }

  private static boolean guarded(HttpServletRequest request) {
    String uri = request.getRequestURI();
    return uri.startsWith("/v1/") || uri.startsWith("/admin/");
  }

  @Override
  protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response,
      FilterChain chain) throws ServletException, IOException {
    // every path: a wildcard Content-Type is 415 here, since Spring MVC's header parsing throws
    // IllegalArgumentException on "*/*" (a 500 otherwise); other content types are left to it
    String contentType = request.getContentType();
    if (contentType != null && contentType.indexOf('*') >= 0) {
      problem(response, 415, "unsupported-media-type",
          "Content-Type must be a concrete media type, not a wildcard");
      return;
    }
    if (request.getContentLengthLong() != 0) { // a body, or perhaps one (chunked)
      request = new Deadlined(request, System.nanoTime() + bodyReadTimeoutNanos);
    }
    // Content-Encoding: gzip is what many HTTP clients send; it is decompressed here, its
    // decompressed size bounded like any body. Any other coding is 415: handed on, its bytes
    // reached the JSON parser ("CTRL-CHAR, code 31")
    String encoding = request.getHeader(HttpHeaders.CONTENT_ENCODING);
    boolean gzip = false;
    if (encoding != null && !encoding.isBlank()
        && !encoding.trim().equalsIgnoreCase("identity")) {
      String e = encoding.trim().toLowerCase(java.util.Locale.ROOT);
      if (!e.equals("gzip") && !e.equals("x-gzip")) {
        problem(response, 415, "unsupported-media-type", "Content-Encoding '"
            + ApiProblem.echo(encoding) + "' is not supported: send the body uncompressed or "
            + "with Content-Encoding: gzip");
        return;
      }
      gzip = true;
    }
    if (!guarded(request)) {
      chain.doFilter(gzip ? new Gunzipped(request, Long.MAX_VALUE) : request, response);
      return;
    }
    long length = request.getContentLengthLong();
    if (length > maxBodyBytes) {
      problem(response, 413, "payload-too-large", "request body of " + length
          + " bytes exceeds the limit of " + maxBodyBytes);
      return;
    }
    if (!inFlight.tryAcquire()) {
      response.setHeader("Retry-After", "1");
      problem(response, 429, "overloaded", "too many requests in flight; retry shortly");
      return;
    }
    try {
      chain.doFilter(gzip ? new Gunzipped(request, maxBodyBytes)
          : length < 0 ? new Limited(request, maxBodyBytes) : request, response);
    } catch (ServletException e) {
      if (e.getCause() instanceof BodyReadTimeout || e.getRootCause() instanceof BodyReadTimeout) {
        response.setHeader(HttpHeaders.CONNECTION, "close");
        problem(response, 408, "request-timeout", "the request body did not arrive in time");
      } else if (e.getCause() instanceof BodyTooLarge
          || e.getRootCause() instanceof BodyTooLarge) {
        problem(response, 413, "payload-too-large", "request body exceeds the limit of "
            + maxBodyBytes + " bytes");
      } else {
        throw e;
      }
    } finally {
      inFlight.release();
    }
  }

  private static void problem(HttpServletResponse response, int status, String type,
      String detail) throws IOException {
    Problems.write(response, status, type, detail, status == 413 ? "body" : null);
  }

  /** Thrown while reading a body that outgrows the limit. */
  static final class BodyTooLarge extends IOException {
    private static final long serialVersionUID = 1L;

    BodyTooLarge() {
      super("request body too large");
    }
  }

  /** A body's stream that checks or counts what the request's own stream reads. */
  private abstract static class Delegating extends ServletInputStream {
    final ServletInputStream in;

    Delegating(ServletInputStream in) {
      this.in = in;
    }

    @Override
    public boolean isFinished() {
      return in.isFinished();
    }

    @Override
    public boolean isReady() {
      return in.isReady();
    }

    @Override
    public void setReadListener(ReadListener listener) {
      in.setReadListener(listener);
    }
  }

  /** The body had not arrived by the deadline. */
  static final class BodyReadTimeout extends IOException {
    private static final long serialVersionUID = 1L;

    BodyReadTimeout() {
      super("the request body did not arrive in time");
    }
  }

  /**
   * A body that must have arrived by a deadline: checked after every read, so a client that sends
   * a byte now and then is cut off soon after the deadline (one that sends nothing at all is cut
   * off by Tomcat's connection timeout, which bounds each read).
   */
  private static final class Deadlined extends HttpServletRequestWrapper {
    private final long deadline;

    Deadlined(HttpServletRequest request, long deadline) {
      super(request);
      this.deadline = deadline;
    }

    @Override
    public ServletInputStream getInputStream() throws IOException {
      return new Delegating(super.getInputStream()) {
        private void check() throws BodyReadTimeout {
          if (System.nanoTime() - deadline > 0) {
            throw new BodyReadTimeout();
          }
        }

        @Override
        public int read() throws IOException {
          check();
          int b = in.read();
          check();
          return b;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
          check();
          int n = in.read(buf, off, len);
          if (n >= 0) {
            check();
          }
          return n;
        }

      };
    }
  }

  /** A gzip body that is not gzip (or is cut short). */
  static final class BadEncoding extends IOException {
    private static final long serialVersionUID = 1L;

    BadEncoding(IOException cause) {
      super("request body is not valid gzip: " + cause.getMessage(), cause);
    }
  }

  /**
   * A gzip body, decompressed, its decompressed bytes bounded ({@link BodyTooLarge}: a small body
   * can inflate to gigabytes). The request's Content-Encoding and Content-Length (the compressed
   * length) are hidden from what reads it.
   */
  private static final class Gunzipped extends HttpServletRequestWrapper {
    private final long limit;

    Gunzipped(HttpServletRequest request, long limit) {
      super(request);
      this.limit = limit;
    }

    private static boolean hidden(String name) {
      return HttpHeaders.CONTENT_ENCODING.equalsIgnoreCase(name)
          || HttpHeaders.CONTENT_LENGTH.equalsIgnoreCase(name);
    }

    @Override
    public String getHeader(String name) {
      return hidden(name) ? null : super.getHeader(name);
    }

    @Override
    public java.util.Enumeration<String> getHeaders(String name) {
      return hidden(name) ? java.util.Collections.emptyEnumeration() : super.getHeaders(name);
    }

    @Override
    public java.util.Enumeration<String> getHeaderNames() {
      java.util.List<String> names = new java.util.ArrayList<>();
      for (var e = super.getHeaderNames(); e.hasMoreElements(); ) {
        String n = e.nextElement();
        if (!hidden(n)) {
          names.add(n);
        }
      }
      return java.util.Collections.enumeration(names);
    }

    @Override
    public int getContentLength() {
      return -1;
    }

    @Override
    public long getContentLengthLong() {
      return -1;
    }

    @Override
    public ServletInputStream getInputStream() throws IOException {
      ServletInputStream raw = super.getInputStream();
      java.util.zip.GZIPInputStream in;
      try {
        in = new java.util.zip.GZIPInputStream(raw, 8192);
      } catch (java.util.zip.ZipException | java.io.EOFException e) {
        throw new BadEncoding(e);
      }
      return new ServletInputStream() {
        private long read;
        private boolean finished;

        @Override
        public int read() throws IOException {
          byte[] one = new byte[1];
          int n = read(one, 0, 1);
          return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
          int n;
          try {
            n = in.read(buf, off, len);
          } catch (java.util.zip.ZipException | java.io.EOFException e) {
            throw new BadEncoding(e);
          }
          if (n < 0) {
            finished = true;
          } else if ((read += n) > limit) {
            throw new BodyTooLarge();
          }
          return n;
        }

        @Override
        public boolean isFinished() {
          return finished;
        }

        @Override
        public boolean isReady() {
          return true;
        }

        @Override
        public void setReadListener(ReadListener listener) {
          throw new UnsupportedOperationException("a gzip body is read blocking");
        }
      };
    }
  }

  /** Counts the bytes of a body without Content-Length. */
  private static final class Limited extends HttpServletRequestWrapper {
    private final long limit;

    Limited(HttpServletRequest request, long limit) {
      super(request);
      this.limit = limit;
    }

    @Override
    public ServletInputStream getInputStream() throws IOException {
      return new Delegating(super.getInputStream()) {
        private long read;

        @Override
        public int read() throws IOException {
          int b = in.read();
          if (b >= 0 && ++read > limit) {
            throw new BodyTooLarge();
          }
          return b;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
          int n = in.read(buf, off, len);
          if (n > 0 && (read += n) > limit) {
            throw new BodyTooLarge();
          }
          return n;
        }

      };
    }
  }
}
