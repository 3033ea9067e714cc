package dev.reranker.serving;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reranker.testing.EngineHarness;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Issue 18, 4: connections without limits. Against the real server (Tomcat, the service's filters)
 * with short timeouts so the test is quick: idle connections — never sending a request, or idle
 * after one — are closed by the server within the configured times; a body trickled a byte every
 * 100 ms gets 408 and its connection is closed soon after the body deadline; normal requests keep
 * being answered meanwhile. The bounds asserted are the configured times plus a margin for a
 * loaded machine, and lower bounds (not closed early) are not asserted at all.
 */
class ConnectionLimitsIntegrationTest {

  @TempDir
  static Path root;
  static EngineHarness harness;
  static ConfigurableApplicationContext app;
  static int port;

  static final int IDLE_CONNECTIONS = 200;
  /** The configured timeouts (seconds) and the margin allowed on top (a busy machine). */
  static final int CONNECTION_TIMEOUT = 2;
  static final int KEEP_ALIVE_TIMEOUT = 2;
  static final int BODY_TIMEOUT = 3;
  static final int MARGIN = 15;

  @BeforeAll
  static void start() throws Exception {
    harness = new EngineHarness(root);
    app = harness.startWeb("conn", "conn",
        "server.tomcat.connection-timeout=" + CONNECTION_TIMEOUT + "s",
        "server.tomcat.keep-alive-timeout=" + KEEP_ALIVE_TIMEOUT + "s",
        "reranker.serving.body-read-timeout=" + BODY_TIMEOUT + "s");
    port = EngineHarness.port(app);
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  @Test
  void idleAndSlowConnectionsAreClosedAndNormalRequestsAreStillAnswered() throws Exception {
    List<Socket> idle = new ArrayList<>();
    List<Socket> afterOne = new ArrayList<>();
    long t0 = System.nanoTime();
    try {
      for (int i = 0; i < IDLE_CONNECTIONS; i++) {
        idle.add(open());
      }
      for (int i = 0; i < 20; i++) { // one request each, then idle on the kept-alive connection
        Socket s = open();
        send(s, rerankRequest(true));
        assertThat(readResponse(s)).startsWith("HTTP/1.1 200");
        afterOne.add(s);
      }
      // a body trickled a byte every 100 ms
      Socket slow = open();
      String body = "{\"userId\":\"u1\",\"candidates\":[\"i1\",\"i2\"]}" + " ".repeat(400);
      send(slow, "POST /v1/rerank HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json"
          + "\r\nContent-Length: " + body.length() + "\r\n\r\n");
      long slowStart = System.nanoTime();
      String answer = null;
      OutputStream out = slow.getOutputStream();
      slow.setSoTimeout(100);
      StringBuilder got = new StringBuilder();
      for (int i = 0; i < body.length() && answer == null; i++) {
        try {
          out.write(body.charAt(i));
          out.flush();
        } catch (java.io.IOException closed) {
          break; // the server gave up on it
        }
        try {
          int b;
          InputStream in = slow.getInputStream();
          while ((b = in.read()) >= 0) {
            got.append((char) b);
          }
          break;
        } catch (SocketTimeoutException e) {
          if (got.length() > 0 && got.indexOf("\r\n\r\n") > 0) {
            answer = got.toString();
          }
        }
        // normal requests, now and then, while all that is held open
        if (i % 10 == 0) {
          try (Socket normal = open()) {
            send(normal, rerankRequest(false));
            assertThat(readResponse(normal)).as("a normal request during the slow body")
                .startsWith("HTTP/1.1 200");
          }
        }
      }
      double slowSeconds = (System.nanoTime() - slowStart) / 1e9;
      String slowAnswer = answer != null ? answer : got.toString();
      System.out.printf("trickled body: answered after %.1f s: %s%n", slowSeconds,
          slowAnswer.lines().findFirst().orElse("(closed without an answer)"));
      assertThat(slowAnswer).startsWith("HTTP/1.1 408");
      assertThat(slowAnswer).containsIgnoringCase("application/problem+json");
      assertThat(slowSeconds).isLessThan(BODY_TIMEOUT + MARGIN);
      assertThat(closedWithin(slow, BODY_TIMEOUT + MARGIN)).as("the slow body's connection")
          .isTrue();

      // every idle connection closed by the server: read returns end of stream
      int closedIdle = 0;
      for (Socket s : idle) {
        closedIdle += closedWithin(s, CONNECTION_TIMEOUT + MARGIN) ? 1 : 0;
      }
      int closedAfterOne = 0;
      for (Socket s : afterOne) {
        closedAfterOne += closedWithin(s, KEEP_ALIVE_TIMEOUT + MARGIN) ? 1 : 0;
      }
      System.out.printf("%d of %d idle connections and %d of %d kept-alive ones closed by the "
          + "server within %.1f s%n", closedIdle, idle.size(), closedAfterOne, afterOne.size(),
          (System.nanoTime() - t0) / 1e9);
      assertThat(closedIdle).isEqualTo(IDLE_CONNECTIONS);
      assertThat(closedAfterOne).isEqualTo(afterOne.size());
      // and the service still answers
      try (Socket normal = open()) {
        send(normal, rerankRequest(false));
        assertThat(readResponse(normal)).startsWith("HTTP/1.1 200");
      }
    } finally {
      for (Socket s : idle) {
        s.close();
      }
      for (Socket s : afterOne) {
        s.close();
      }
    }
  }

  static Socket open() throws Exception {
    Socket s = new Socket("localhost", port);
    s.setSoTimeout(30_000);
    return s;
  }

  static void send(Socket s, String text) throws Exception {
    s.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
    s.getOutputStream().flush();
  }

  static String rerankRequest(boolean keepAlive) {
    String body = "{\"userId\":\"u1\",\"candidates\":[\"i1\",\"i2\"]}";
    return "POST /v1/rerank HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        + "Content-Length: " + body.length() + "\r\n" + (keepAlive ? "" : "Connection: close\r\n")
        + "\r\n" + body;
  }

  /** The status line and headers of one response, and its body (Content-Length). */
  static String readResponse(Socket s) throws Exception {
    InputStream in = s.getInputStream();
    StringBuilder head = new StringBuilder();
    while (head.indexOf("\r\n\r\n") < 0) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      head.append((char) b);
    }
    int length = 0;
    for (String line : head.toString().split("\r\n")) {
      if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
        length = Integer.parseInt(line.substring(15).trim());
      }
    }
    in.readNBytes(length);
    return head.toString();
  }

  /** Whether the server closes the connection (end of stream) within {@code seconds}. */
  static boolean closedWithin(Socket s, int seconds) throws Exception {
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    while (System.nanoTime() < deadline) {
      s.setSoTimeout((int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
      try {
        int b = s.getInputStream().read();
        if (b < 0) {
          return true;
        }
      } catch (SocketTimeoutException e) {
        return false;
      } catch (java.net.SocketException e) {
        return true; // reset by the server
      }
    }
    return false;
  }
}
