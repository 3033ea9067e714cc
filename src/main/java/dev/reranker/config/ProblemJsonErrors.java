package dev.reranker.config;

import dev.reranker.serving.Problems;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.Writer;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.catalina.core.StandardHost;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ErrorReportValve;
import org.apache.coyote.ActionCode;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.tomcat.TomcatContextCustomizer;
import org.springframework.boot.webmvc.error.ErrorController;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Every error is problem+json, also those no controller advice sees: the servlet container's error
 * page ({@code /error}, where {@code sendError} and uncaught exceptions end up; Spring Boot's
 * default answers its own JSON) and Tomcat's error report (errors before any servlet runs, such as
 * a malformed request line, which Tomcat answers with an HTML page). Details are generic: no
 * exception messages, no Java types.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
class ProblemJsonErrors {

  /** Replaces Tomcat's HTML error report with problem+json. */
  @Bean
  TomcatContextCustomizer problemJsonErrorReport() {
    return context -> {
      if (context.getParent() instanceof StandardHost host) {
        host.setErrorReportValveClass(ProblemJsonErrorReportValve.class.getName());
      }
    };
  }

  static String detail(int status) {
    return switch (status) {
      case 400 -> "the request could not be understood";
      case 401 -> "authentication is required";
      case 403 -> "not allowed";
      case 404 -> "no such resource";
      case 405 -> "this method is not supported here";
      case 413 -> "request body exceeds the size limit";
      case 414 -> "the request URI is too long";
      default -> status >= 500 ? "the server failed to handle the request; it is logged"
          : "the request was refused";
    };
  }

  /** The error page: {@code /error} (a component: found by the scan). */
  @RestController
  static final class ProblemErrorController implements ErrorController {
    @RequestMapping("/error")
    ResponseEntity<String> error(HttpServletRequest request) {
      Object code = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
      // asked for directly (not forwarded by the container): there is nothing here
      int status = code == null ? 404 : code instanceof Integer i && i >= 400 ? i : 500;
      return ResponseEntity.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON)
          .body(Problems.json(status, Problems.typeFor(status), detail(status), null));
    }
  }

  /** Tomcat's error report as problem+json (public: Tomcat instantiates it by class name). */
  public static final class ProblemJsonErrorReportValve extends ErrorReportValve {
    @Override
    protected void report(Request request, Response response, Throwable throwable) {
      int status = response.getStatus();
      if (status < 400 || response.getContentWritten() > 0) {
        return;
      }
      AtomicBoolean ioAllowed = new AtomicBoolean(true);
      response.getCoyoteResponse().action(ActionCode.IS_IO_ALLOWED, ioAllowed);
      if (!ioAllowed.get()) {
        return;
      }
      try {
        response.setContentType(Problems.MEDIA_TYPE);
        response.setCharacterEncoding("UTF-8");
        Writer writer = response.getReporter();
        if (writer != null) {
          writer.write(Problems.json(status, Problems.typeFor(status), detail(status), null));
          response.finishResponse();
        }
      } catch (IOException | IllegalStateException e) {
        // the connection is gone or the response committed: nothing more to say
      }
    }
  }
}
