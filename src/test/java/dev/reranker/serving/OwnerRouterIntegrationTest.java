package dev.reranker.serving;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.reranker.experiment.ArmChoice;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.state.HostInfo;
import org.junit.jupiter.api.Test;

/**
 * Where a request is answered, over real HTTP: here when this instance owns the user or no one is
 * known to; by the owner when it answers (the request marked as forwarded); here from the standby
 * copy when the owner is down and this instance hosts one; degraded when it hosts none.
 */
class OwnerRouterIntegrationTest {

  static final HostInfo SELF = new HostInfo("localhost", 18_080);
  static final RerankApi.RerankRequest REQUEST = new RerankApi.RerankRequest("u7",
      List.of("a", "b"), 2, null, null);

  static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static OwnerRouter router(KeyQueryMetadata metadata) {
    return new OwnerRouter(user -> metadata, SELF, new ClusterKey("k"));
  }

  @Test
  void usersOwnedHereOrUnknownAreAnsweredHere() {
    assertThat(router(new KeyQueryMetadata(SELF, Set.of(), 0)).route(REQUEST,
        Duration.ofSeconds(1))).isEqualTo(OwnerRouter.Route.LOCAL);
    assertThat(router(KeyQueryMetadata.NOT_AVAILABLE).route(REQUEST, Duration.ofSeconds(1)))
        .isEqualTo(OwnerRouter.Route.LOCAL);
    assertThat(router(null).route(REQUEST, Duration.ofSeconds(1)))
        .isEqualTo(OwnerRouter.Route.LOCAL);
    OwnerRouter rebalancing = new OwnerRouter(user -> {
      throw new IllegalStateException("rebalancing");
    }, SELF, new ClusterKey("k"));
    assertThat(rebalancing.route(REQUEST, Duration.ofSeconds(1)))
        .isEqualTo(OwnerRouter.Route.LOCAL);
    // no application.server: a single instance, never forwards
    assertThat(new OwnerRouter(user -> {
      throw new AssertionError("not asked");
    }, null, new ClusterKey("k")).route(REQUEST, Duration.ofSeconds(1)))
        .isEqualTo(OwnerRouter.Route.LOCAL);
  }

  @Test
  void anOwnerThatAnswersAnswersTheRequest() throws IOException {
    HttpServer owner = HttpServer.create(new InetSocketAddress("localhost", 0), 0);
    AtomicReference<String> forwardedHeader = new AtomicReference<>();
    owner.createContext("/v1/rerank", exchange -> {
      forwardedHeader.set(exchange.getRequestHeaders().getFirst(OwnerRouter.FORWARDED_HEADER));
      byte[] body = ("{\"requestId\":\"r1\",\"userId\":\"u7\",\"experiment\":\"default\","
          + "\"arm\":\"softmax\",\"modelVersion\":\"softmax-abc\",\"statePosition\":3,"
          + "\"items\":[{\"itemId\":\"b\",\"score\":2.0,\"rank\":1,\"fallback\":false}],"
          + "\"degraded\":false,\"coldStart\":false,\"tookMs\":1.5}")
          .getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    owner.start();
    try {
      HostInfo ownerHost = new HostInfo("localhost", owner.getAddress().getPort());
      OwnerRouter.Route route = router(new KeyQueryMetadata(ownerHost, Set.of(SELF), 0))
          .route(REQUEST, Duration.ofSeconds(5));
      assertThat(route.response()).isNotNull();
      assertThat(route.response().arm()).isEqualTo(ArmChoice.SOFTMAX);
      assertThat(route.response().items()).extracting(RerankApi.Item::itemId)
          .containsExactly("b");
      assertThat(forwardedHeader.get()).isEqualTo("1");
    } finally {
      owner.stop(0);
    }
  }

  @Test
  void anUnreachableOwnerIsServedFromTheStandbyCopyOrDegraded() throws IOException {
    HostInfo down = new HostInfo("localhost", closedPort());
    assertThat(router(new KeyQueryMetadata(down, Set.of(SELF), 0)).route(REQUEST,
        Duration.ofMillis(500))).as("a standby here").isEqualTo(OwnerRouter.Route.LOCAL);
    assertThat(router(new KeyQueryMetadata(down, Set.of(new HostInfo("elsewhere", 1)), 0))
        .route(REQUEST, Duration.ofMillis(500))).as("no copy here")
        .isEqualTo(OwnerRouter.Route.DEGRADED);
  }
}
