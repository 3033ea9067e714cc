package dev.reranker.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.reranker.testing.EngineHarness;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Requests beyond the concurrency limit get 429 at once (problem+json, Retry-After), never a
 * queue; the held requests finish normally and the service keeps serving. Requests are held in
 * flight deterministically by sending their headers and only part of their bodies.
 */
class OverloadIntegrationTest {

  private static final String BODY = "{\"userId\":\"nobody\",\"candidates\":[\"i1\",\"i2\"],\"k\":2}";

  @TempDir
  Path root;

  @Test
  void requestsBeyondTheLimitGet429AndTheHeldOnesComplete() throws Exception {
    try (EngineHarness harness = new EngineHarness(root)) {
      ConfigurableApplicationContext app = harness.startWeb("overload", "o",
          "reranker.serving.max-concurrent-requests=2");
      int port = EngineHarness.port(app);
      HttpClient http = HttpClient.newHttpClient();
      HttpRequest probe = HttpRequest.newBuilder(URI.create("http://localhost:" + port
              + "/v1/rerank"))
          .header("Content-Type", "application/json").timeout(Duration.ofSeconds(10))
          .POST(HttpRequest.BodyPublishers.ofString(BODY)).build();
      assertThat(http.send(probe, HttpResponse.BodyHandlers.ofString()).statusCode())
          .isEqualTo(200);

      byte[] body = BODY.getBytes(StandardCharsets.UTF_8);
      List<Socket> held = new ArrayList<>();
      for (int i = 0; i < 2; i++) { // headers and half a body: in flight until the rest comes
        Socket s = new Socket("localhost", port);
        s.setSoTimeout(20_000);
        OutputStream out = s.getOutputStream();
        out.write(("POST /v1/rerank HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
            + "application/json\r\nConnection: close\r\nContent-Length: " + body.length
            + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(body, 0, body.length / 2);
        out.flush();
        held.add(s);
      }
      HttpResponse<String> rejected = await().atMost(Duration.ofSeconds(20))
          .pollInterval(Duration.ofMillis(50))
          .until(() -> http.send(probe, HttpResponse.BodyHandlers.ofString()),
              r -> r.statusCode() == 429);
      assertThat(rejected.headers().firstValue("Content-Type")).hasValueSatisfying(
          t -> assertThat(t).startsWith("application/problem+json"));
      assertThat(rejected.headers().firstValue("Retry-After")).hasValue("1");
      assertThat(rejected.body()).contains("\"status\":429").contains("overloaded");

      for (Socket s : held) {
        s.getOutputStream().write(body, body.length / 2, body.length - body.length / 2);
        s.getOutputStream().flush();
        InputStream in = s.getInputStream();
        String response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        assertThat(response).startsWith("HTTP/1.1 200").contains("\"coldStart\":true");
        s.close();
      }
      assertThat(http.send(probe, HttpResponse.BodyHandlers.ofString()).statusCode())
          .isEqualTo(200);
    }
  }
}
