package dev.reranker.serving;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.reranker.data.Topics;
import java.time.Duration;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.state.HostInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.client.SimpleClientHttpRequestFactory;
import org.springframework.web.client.RestClient;

/**
 * Sends a request for a user whose partition another instance owns to that instance (Kafka Streams
 * {@code queryMetadataForKey}, with each instance's {@code application.server}). If the owner
 * cannot be reached in time, the request is answered from a standby copy of the user's history:
 * here if this instance hosts one, else by an instance that does (forwarded to it); with no copy
 * reachable, degraded — without a copy the user would look like a new one, and a cold-start order
 * would be served as if it were the model's. A forwarded request carries a header so it is never
 * forwarded twice, and the cluster key ({@link ClusterKey}) without which that header is ignored.
 */
public final class OwnerRouter {

  static final String FORWARDED_HEADER = "X-Reranker-Forwarded";
  private static final Logger log = LoggerFactory.getLogger(OwnerRouter.class);

  private final Function<String, KeyQueryMetadata> ownerOf;
  private final HostInfo self;
  private final ClusterKey clusterKey;

  /**
   * Clients by timeout (ms). Building a RestClient sets up its message converters (a JSON mapper
   * among them), which costs far more than forwarding a request, so clients are reused; the
   * timeout is a property of the request factory, and requests bring their own deadlines, hence
   * one client per timeout seen recently. Connections are kept alive by the JDK's HTTP client
   * underneath either way.
   */
  private final Cache<Long, RestClient> clients = Caffeine.newBuilder().maximumSize(32).build();

  /**
   * @param ownerOf where a user's history lives (active host and standbys); null or {@link
   *     KeyQueryMetadata#NOT_AVAILABLE} when unknown; may throw while Kafka Streams rebalances
   * @param self this instance's {@code application.server}, or null when it has none
   */
  OwnerRouter(Function<String, KeyQueryMetadata> ownerOf, HostInfo self, ClusterKey clusterKey) {
    this.ownerOf = ownerOf;
    this.self = self;
    this.clusterKey = clusterKey;
  }

  /** Routing by the history store's metadata in {@code streams} (null while not started). */
  public static OwnerRouter over(Supplier<KafkaStreams> streams, HostInfo self,
      ClusterKey clusterKey) {
    return new OwnerRouter(user -> {
      KafkaStreams ks = streams.get();
      return ks == null ? null : ks.queryMetadataForKey(Topics.HISTORY_STORE, user,
          Serdes.String().serializer());
    }, self, clusterKey);
  }

  private RestClient client(Duration deadline) {
    return clients.get(Math.clamp(deadline.toMillis(), 1L, Integer.MAX_VALUE), ms -> {
      SimpleClientHttpRequestFactory factory = new SimpleClientHttpRequestFactory();
      factory.setConnectTimeout(ms.intValue());
      factory.setReadTimeout(ms.intValue());
      return RestClient.builder().requestFactory(factory).build();
    });
  }

  /**
   * Where a request is answered.
   *
   * @param response the owner's answer, or null when this instance answers
   * @param localHistory false when this instance must answer but holds no copy of the user's
   *     history (the owner did not answer): serve degraded
   */
  record Route(RerankApi.RerankResponse response, boolean localHistory) {
    static final Route LOCAL = new Route(null, true);
    static final Route DEGRADED = new Route(null, false);
  }

  /** Forwards to the owner when another instance owns the user. */
  Route route(RerankApi.RerankRequest request, Duration deadline) {
    if (self == null) {
      return Route.LOCAL;
    }
    KeyQueryMetadata m;
    try {
      m = ownerOf.apply(request.userId());
      if (m == null || m == KeyQueryMetadata.NOT_AVAILABLE || self.equals(m.activeHost())) {
        return Route.LOCAL;
      }
    } catch (RuntimeException e) {
      return Route.LOCAL; // rebalancing: answer locally (the stores say if they are unavailable)
    }
    HostInfo owner = m.activeHost();
    try {
      return new Route(forward(owner, request, deadline), true);
    } catch (RuntimeException e) {
      boolean standby = m.standbyHosts().contains(self);
      if (standby) {
        log.warn("owner {} of user {} unreachable ({}); answering from the standby copy here",
            owner, request.userId(), e.getMessage());
        return Route.LOCAL;
      }
      // an instance that holds a standby copy answers from it (until the group notices the
      // owner is gone and makes a standby the owner, which takes a session timeout)
      for (HostInfo copy : m.standbyHosts()) {
        try {
          RerankApi.RerankResponse r = forward(copy, request, deadline);
          log.warn("owner {} of user {} unreachable ({}); answered by {} from its standby copy",
              owner, request.userId(), e.getMessage(), copy);
          return new Route(r, true);
        } catch (RuntimeException again) {
          // try the next copy
        }
      }
      log.warn("owner {} of user {} unreachable ({}) and no standby copy answered; degraded",
          owner, request.userId(), e.getMessage());
      return Route.DEGRADED;
    }
  }

  private RerankApi.RerankResponse forward(HostInfo to, RerankApi.RerankRequest request,
      Duration deadline) {
    return client(deadline).post()
        .uri("http://" + to.host() + ":" + to.port() + "/v1/rerank")
        .header(FORWARDED_HEADER, "1")
        .header(ClusterKey.HEADER, clusterKey.value())
        .header(RerankController.DEADLINE_HEADER, Long.toString(deadline.toMillis()))
        .body(request)
        .retrieve()
        .body(RerankApi.RerankResponse.class);
  }
}
