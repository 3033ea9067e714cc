package dev.reranker.serving;

import io.swagger.v3.oas.annotations.Hidden;
import java.util.ArrayList;
import java.util.List;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /v1/transport-probe}: what HTTP alone costs. It takes a rerank request through the
 * same stack as {@code /v1/rerank} (Tomcat, the request guards, the security chain, Spring MVC,
 * Jackson both ways) and answers a response of the same shape, the first k candidates in the
 * caller's order, without validating, assigning, reading state or scoring. {@code bench rerank}
 * measures it beside the real endpoint to split a request's cost into transport and engine.
 * Off unless {@code reranker.serving.transport-probe=true}; not in the API documentation.
 */
@RestController
@Hidden
@ConditionalOnBooleanProperty("reranker.serving.transport-probe")
class TransportProbeController {

  @PostMapping(path = "/v1/transport-probe", consumes = MediaType.APPLICATION_JSON_VALUE,
      produces = MediaType.APPLICATION_JSON_VALUE)
  RerankApi.RerankResponse probe(@RequestBody RerankApi.RerankRequest request) {
    List<String> candidates = request.candidates() == null ? List.of() : request.candidates();
    int k = request.k() == null ? candidates.size()
        : Math.max(0, Math.min(request.k(), candidates.size()));
    List<RerankApi.Item> items = new ArrayList<>(k);
    for (int i = 0; i < k; i++) {
      items.add(new RerankApi.Item(candidates.get(i), 0.0, i + 1, false));
    }
    return new RerankApi.RerankResponse(null, request.userId(), request.experiment(),
        dev.reranker.experiment.ArmChoice.FALLBACK,
        null, 0, items, false, false, 0.0);
  }
}
