package dev.reranker.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.reranker.data.EventType;
import dev.reranker.data.Interaction;
import dev.reranker.ingest.InProcessKafkaBroker;
import dev.reranker.testing.EngineHarness;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Two instances in one consumer group over a real broker: a request for a user the other instance
 * owns is forwarded to it; when the owner's advertised address does not answer and no local copy
 * exists, the answer is the fallback order flagged degraded (not a cold start).
 */
class ForwardingIntegrationTest {

  private static final String APP = "fwd";
  private static final int USERS = 24;
  private static final int EVENTS = 12;

  @TempDir
  Path root;
  private EngineHarness harness;
  private final HttpClient http = HttpClient.newHttpClient();
  private final JsonMapper json = JsonMapper.builder().build();

  @AfterEach
  void tearDown() {
    if (harness != null) {
      harness.close();
    }
  }

  @Test
  void forwardsToTheOwnerAndDegradesWhenTheOwnerIsUnreachable() throws Exception {
    harness = new EngineHarness(root);
    int[] ports = InProcessKafkaBroker.freePorts(3);
    int portA = ports[0];
    int portB = ports[1];
    int dead = ports[2]; // B advertises this address, where nothing listens
    ConfigurableApplicationContext a = harness.startWeb(APP, "a", "server.port=" + portA,
        "spring.kafka.streams.properties.application.server=localhost:" + portA);
    ConfigurableApplicationContext b = harness.startWeb(APP, "b", "server.port=" + portB,
        "spring.kafka.streams.properties.application.server=localhost:" + dead);

    List<Interaction> events = new ArrayList<>();
    List<String> items = harness.performer.items().ids();
    for (int i = 0; i < EVENTS; i++) {
      for (int u = 0; u < USERS; u++) {
        events.add(new Interaction("user-" + u, items.get((u * 7 + i * 3) % items.size()),
            1_700_000_000_000L + i * 60_000L, EventType.VIEW, "e-" + u + "-" + i));
      }
    }
    // both instances must hold partitions (and agree on it) before the events go in
    await().atMost(Duration.ofSeconds(90)).until(() -> owners(a).size() == 2
        && owners(b).equals(owners(a)));
    harness.produce(APP, events);
    await().atMost(Duration.ofSeconds(90)).until(() -> EngineHarness.metrics(a).appliedCount()
        + EngineHarness.metrics(b).appliedCount() == (long) USERS * EVENTS);

    String ownedByA = userOwnedBy(a, portA);
    String ownedByB = userOwnedBy(a, dead);
    List<String> candidates = items.subList(0, 20);

    // B has no copy of A's user: the answer can only come from A, through forwarding
    JsonNode viaB = rerank(portB, ownedByA, candidates);
    JsonNode direct = rerank(portA, ownedByA, candidates);
    assertThat(viaB.get("degraded").asBoolean()).isFalse();
    assertThat(viaB.get("coldStart").asBoolean()).isFalse();
    assertThat(viaB.get("statePosition").asLong()).isEqualTo(EVENTS);
    assertThat(ids(viaB)).isEqualTo(ids(direct));
    assertThat(viaB.get("items").get(0).get("score").asDouble())
        .isEqualTo(direct.get("items").get(0).get("score").asDouble());

    // B answers its own user directly
    JsonNode own = rerank(portB, ownedByB, candidates);
    assertThat(own.get("degraded").asBoolean()).isFalse();
    assertThat(own.get("statePosition").asLong()).isEqualTo(EVENTS);

    // A cannot reach B's advertised address and holds no standby: degraded, not cold start
    JsonNode unreachable = rerank(portA, ownedByB, candidates);
    assertThat(unreachable.get("degraded").asBoolean()).isTrue();
    assertThat(unreachable.get("coldStart").asBoolean()).isFalse();
    assertThat(unreachable.get("items")).hasSize(10);
    assertThat(unreachable.get("items").get(0).get("fallback").asBoolean()).isTrue();
    // and A keeps serving
    assertThat(rerank(portA, ownedByA, candidates).get("degraded").asBoolean()).isFalse();
  }

  /** The advertised hosts that own users' partitions, as seen by an instance. */
  private static Set<Integer> owners(ConfigurableApplicationContext c) {
    Set<Integer> ports = new HashSet<>();
    for (int u = 0; u < USERS; u++) {
      KeyQueryMetadata m = EngineHarness.streams(c).queryMetadataForKey(
          dev.reranker.data.Topics.HISTORY_STORE, "user-" + u,
          Serdes.String().serializer());
      if (m == null || m == KeyQueryMetadata.NOT_AVAILABLE) {
        return Set.of();
      }
      ports.add(m.activeHost().port());
    }
    return ports;
  }

  private static String userOwnedBy(ConfigurableApplicationContext c, int port) {
    for (int u = 0; u < USERS; u++) {
      KeyQueryMetadata m = EngineHarness.streams(c).queryMetadataForKey(
          dev.reranker.data.Topics.HISTORY_STORE, "user-" + u,
          Serdes.String().serializer());
      if (m.activeHost().port() == port) {
        return "user-" + u;
      }
    }
    throw new AssertionError("no user owned by port " + port);
  }

  private JsonNode rerank(int port, String user, List<String> candidates) throws Exception {
    String body = json.writeValueAsString(new RerankApi.RerankRequest(user, candidates, 10, null,
        null));
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(
            URI.create("http://localhost:" + port + "/v1/rerank"))
        .header("Content-Type", "application/json")
        .header("X-Deadline-Ms", "2000")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return json.readTree(r.body());
  }

  private static List<String> ids(JsonNode response) {
    List<String> out = new ArrayList<>();
    response.get("items").forEach(i -> out.add(i.get("itemId").asString()));
    return out;
  }
}
