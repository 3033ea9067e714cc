package dev.reranker.serving;

import dev.reranker.model.Arm;
import dev.reranker.state.StateReader;
import dev.reranker.state.StateUnavailableException;
import dev.reranker.state.StateView;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

/** {@code POST /v1/rerank} and {@code GET /v1/users/{userId}/state}. */
@RestController
@Tag(name = "reranking")
class RerankController {

  /** Request header overriding the configured deadline, in milliseconds (1 … 60,000). */
  static final String DEADLINE_HEADER = "X-Deadline-Ms";

  private final RerankService service;
  private final OwnerRouter router;
  private final StateReader states;

  private final ClusterKey clusterKey;

  RerankController(RerankService service, OwnerRouter router, StateReader states,
      ClusterKey clusterKey) {
    this.clusterKey = clusterKey;
    this.service = service;
    this.router = router;
    this.states = states;
  }

  @Operation(summary = "Rerank candidate items for a user",
      description = "Scores come from the user's current state (pending events folded first). "
          + "Unknown users get the popularity order (coldStart); unknown items follow the "
          + "model's items in popularity order (fallback). Past the deadline the popularity order "
          + "is returned with degraded=true.")
  @PostMapping(path = "/v1/rerank", consumes = MediaType.APPLICATION_JSON_VALUE,
      produces = MediaType.APPLICATION_JSON_VALUE)
  RerankApi.RerankResponse rerank(@RequestBody RerankApi.RerankRequest request,
      @Parameter(description = "Deadline in ms (default from configuration)")
      @RequestHeader(name = DEADLINE_HEADER, required = false) String deadlineMs,
      @RequestHeader(name = OwnerRouter.FORWARDED_HEADER, required = false) String forwarded,
      @RequestHeader(name = ClusterKey.HEADER, required = false) String cluster) {
    Duration deadline = deadline(deadlineMs);
    if (forwarded != null && !clusterKey.matches(cluster)) {
      forwarded = null; // only another instance may say "already routed": route it as usual
    }
    if (forwarded == null && request != null && request.userId() != null
        && request.history() == null) {
      OwnerRouter.Route route = router.route(request,
          deadline == null ? service.defaultDeadline() : deadline);
      if (route.response() != null) {
        return route.response();
      }
      return service.rerank(request, deadline, route.localHistory());
    }
    return service.rerank(request, deadline);
  }

  @Operation(summary = "A user's state per arm (position, model version, last event time, bytes)")
  @GetMapping(path = "/v1/users/{userId}/state", produces = MediaType.APPLICATION_JSON_VALUE)
  RerankApi.UserState state(@PathVariable String userId) {
    RequestValidation.id("userId", userId);
    List<RerankApi.ArmState> arms = new ArrayList<>();
    for (Arm arm : Arm.values()) {
      if (!states.models().has(arm)) {
        continue;
      }
      Optional<StateView> view;
      try {
        view = states.read(userId, arm);
      } catch (StateUnavailableException e) {
        continue;
      }
      view.ifPresent(v -> arms.add(new RerankApi.ArmState(arm.wireName(), v.modelVersion(),
          v.folded(), v.historyPosition(), v.lastTimestamp(), v.byteSize(), v.partial())));
    }
    if (arms.isEmpty()) {
      throw ApiProblem.notFound("userId", "no history for user '" + ApiProblem.echo(userId)
          + "'");
    }
    return new RerankApi.UserState(userId, arms);
  }

  private static Duration deadline(String header) {
    if (header == null) {
      return null;
    }
    try {
      long ms = Long.parseLong(header.trim());
      if (ms < 1 || ms > 60_000) {
        throw ApiProblem.invalid(DEADLINE_HEADER, DEADLINE_HEADER
            + " must be in [1, 60000] ms, got " + ms);
      }
      return Duration.ofMillis(ms);
    } catch (NumberFormatException e) {
      throw ApiProblem.invalid(DEADLINE_HEADER, DEADLINE_HEADER
          + " must be an integer number of milliseconds");
    }
  }
}
