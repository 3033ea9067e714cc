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
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Protects the API before any work is done: request bodies over the size limit get 413 (checked on
 * Content-Length, and while reading a chunked body), and requests beyond the concurrency limit get
 * 429 with Retry-After at once rather than queueing until they time out (both on {@code /v1/*} and
 * {@code /admin/*}); a Content-Type that is no concrete media type gets 415 on every path. All
 * answer in problem+json.
 */
public final class RequestGuards extends OncePerRequestFilter {

  private final long maxBodyBytes;
  private final Semaphore inFlight;

  public RequestGuards(long maxBodyBytes, int maxConcurrentRequests) {
    this.maxBodyBytes = maxBodyBytes;
    this.inFlight = new Semaphore(maxConcurrentRequests);
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
    if (!guarded(request)) {
      chain.doFilter(request, response);
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
      chain.doFilter(length < 0 ? new Limited(request, maxBodyBytes) : request, response);
    } catch (ServletException e) {
      if (e.getCause() instanceof BodyTooLarge || e.getRootCause() instanceof BodyTooLarge) {
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

  /** Counts the bytes of a body without Content-Length. */
  private static final class Limited extends HttpServletRequestWrapper {
    private final long limit;

    Limited(HttpServletRequest request, long limit) {
      super(request);
      this.limit = limit;
    }

    @Override
    public ServletInputStream getInputStream() throws IOException {
      ServletInputStream in = super.getInputStream();
      return new ServletInputStream() {
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
      };
    }
  }
}
