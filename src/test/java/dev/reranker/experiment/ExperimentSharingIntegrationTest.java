package dev.reranker.experiment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.reranker.testing.EngineHarness;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Admin changes reach every instance through the experiments topic (a real broker, two instances
 * over HTTP): an instance started after the changes catches up, one running sees the other's
 * changes, both assign users alike, and a record that cannot be read is skipped.
 */
class ExperimentSharingIntegrationTest {

  private static final String APP = "share";

  @TempDir
  Path root;
  private EngineHarness harness;
  private final HttpClient http = HttpClient.newHttpClient();

  @AfterEach
  void tearDown() {
    if (harness != null) {
      harness.close();
    }
  }

  @Test
  void changesMadeOnOneInstanceApplyOnEveryInstance() throws Exception {
    harness = new EngineHarness(root);
    ConfigurableApplicationContext a = harness.startWeb(APP, "a");
    // two changes in a row: the second allocation depends on the first
    assertThat(put(a, "default", "{\"weights\":{\"performer\":50,\"softmax\":30,"
        + "\"fallback\":20}}")).isEqualTo(200);
    assertThat(put(a, "default", "{\"weights\":{\"performer\":60,\"softmax\":20,"
        + "\"fallback\":20}}")).isEqualTo(200);
    Experiment onA = registry(a).get("default");
    assertThat(onA.allocation().encode())
        .isNotEqualTo(BucketAllocation.of(onA.weights()).encode());

    // an instance started later reads the topic from the beginning
    ConfigurableApplicationContext b = harness.startWeb(APP, "b");
    assertThat(b.getBean(ExperimentLog.class).awaitCaughtUp(Duration.ofSeconds(30))).isTrue();
    assertThat(registry(b).get("default").allocation().encode())
        .isEqualTo(onA.allocation().encode());
    assertThat(registry(b).get("default").weights()).isEqualTo(onA.weights());

    // a change on the other instance comes back
    assertThat(put(b, "checkout", "{\"weights\":{\"performer\":50,\"softmax\":50},"
        + "\"shadow\":true,\"k\":5,\"salt\":\"s1\"}")).isEqualTo(200);
    await().atMost(Duration.ofSeconds(30)).until(() -> registry(a).get("checkout") != null);
    Experiment x = registry(a).get("checkout");
    Experiment y = registry(b).get("checkout");
    assertThat(x.shadow()).isTrue();
    assertThat(x.k()).isEqualTo(5);
    for (int u = 0; u < 1_000; u++) {
      assertThat(x.assign("user-" + u)).isEqualTo(y.assign("user-" + u));
    }
    assertThat(get(a, "/v1/experiments")).contains("checkout");

    // a record nobody can read is skipped and changes nothing
    long skipped = a.getBean(ExperimentLog.class).skipped();
    harness.produceRaw(APP, p -> p.send(new ProducerRecord<>(APP + "-experiments", "default",
        "{\"version\":1,\"id\":\"default\"".getBytes(StandardCharsets.UTF_8))));
    await().atMost(Duration.ofSeconds(30)).until(() ->
        a.getBean(ExperimentLog.class).skipped() == skipped + 1);
    assertThat(registry(a).get("default").allocation().encode())
        .isEqualTo(onA.allocation().encode());
    assertThat(put(a, "default", "{\"weights\":{\"performer\":100}}")).isEqualTo(200);
    await().atMost(Duration.ofSeconds(30)).until(() -> registry(b).get("default").weights()
        .equals(java.util.Map.of(ArmChoice.PERFORMER, 100.0)));
  }

  private static ExperimentRegistry registry(ConfigurableApplicationContext c) {
    return c.getBean(ExperimentRegistry.class);
  }

  private int put(ConfigurableApplicationContext c, String id, String body) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://localhost:"
            + EngineHarness.port(c) + "/admin/experiments/" + id))
        .header("Content-Type", "application/json").header("X-Api-Key", EngineHarness.ADMIN_KEY)
        .PUT(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    return r.statusCode();
  }

  private String get(ConfigurableApplicationContext c, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + EngineHarness.port(c)
        + path)).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
  }
}
