package dev.reranker.serving;

import dev.reranker.experiment.ArmChoice;
import dev.reranker.experiment.Experiment;
import dev.reranker.experiment.ExperimentRegistry;
import dev.reranker.experiment.Exposure;
import dev.reranker.experiment.OutcomeTracker;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One reranking request end to end: validate, assign the user's arm in the experiment, rerank under
 * the deadline, in shadow mode also run the other model arm and record how far they agree, then
 * record the exposure (for the online outcome join and the {@code rerank.exposures} topic) and the
 * per-arm metrics.
 */
public final class RerankService {

  private final Reranker reranker;
  private final ExperimentRegistry experiments;
  private final OutcomeTracker outcomes;
  private final Consumer<Exposure> publisher;
  private final MeterRegistry registry;
  private final Duration defaultDeadline;
  private final Clock clock;
  private final Map<String, Timer> timers = new ConcurrentHashMap<>();
  private final Map<ArmChoice, Counter> degradedCounters = new ConcurrentHashMap<>();

  public RerankService(Reranker reranker, ExperimentRegistry experiments, OutcomeTracker outcomes,
      Consumer<Exposure> publisher, MeterRegistry registry, Duration defaultDeadline, Clock clock) {
    this.reranker = reranker;
    this.experiments = experiments;
    this.outcomes = outcomes;
    this.publisher = publisher;
    this.registry = registry;
    this.defaultDeadline = defaultDeadline;
    this.clock = clock;
  }

  public Duration defaultDeadline() {
    return defaultDeadline;
  }

  /**
   * @param deadline the time budget (the configured default when null)
   */
  public RerankApi.RerankResponse rerank(RerankApi.RerankRequest request, Duration deadline) {
    return rerank(request, deadline, true);
  }

  /**
   * @param deadline the time budget (the configured default when null)
   * @param stateReachable false when the user's history is on no store this instance can read (its
   *     owner did not answer a forwarded request): the fallback order is served, degraded
   */
  public RerankApi.RerankResponse rerank(RerankApi.RerankRequest request, Duration deadline,
      boolean stateReachable) {
    RequestValidation.check(request);
    String experimentId = request.experiment() == null ? experiments.defaultId()
        : request.experiment();
    Experiment experiment = experiments.get(experimentId);
    if (experiment == null) {
      throw ApiProblem.notFound("experiment", "unknown experiment '" + experimentId
          + "'");
    }
    long start = System.nanoTime();
    long budget = (deadline == null ? defaultDeadline : deadline).toNanos();
    ArmChoice arm = experiment.assign(request.userId());
    int k = request.k() == null ? request.candidates().size()
        : Math.min(request.k(), request.candidates().size());
    List<Reranker.InlineEvent> inline = request.history() == null ? null
        : request.history().stream().map(e -> new Reranker.InlineEvent(e.itemId(),
            e.timestamp())).toList();
    RerankResult result = stateReachable || inline != null || arm.arm() == null
        ? reranker.rerank(request.userId(), request.candidates(), k, arm, start + budget, inline)
        : reranker.fallback(request.userId(), request.candidates(), k, arm, true, false);
    double tookMs = (System.nanoTime() - start) / 1e6;

    // no shadow run behind a degraded answer: agreement with a fallback order says nothing
    if (experiment.shadow() && arm.arm() != null && !result.degraded()) {
      ArmChoice other = arm == ArmChoice.PERFORMER ? ArmChoice.SOFTMAX : ArmChoice.PERFORMER;
      long shadowStart = System.nanoTime();
      RerankResult shadow = reranker.rerank(request.userId(), request.candidates(), k,
          other, shadowStart + budget, inline);
      double shadowMs = (System.nanoTime() - shadowStart) / 1e6;
      outcomes.agreement(experiment.id(), OutcomeTracker.compare(ids(result), ids(shadow),
          experiment.k(), tookMs, shadowMs, arm));
      timer("shadow", other, shadow.degraded()).record(
          (long) (shadowMs * 1e6), TimeUnit.NANOSECONDS);
    }

    String requestId = UUID.randomUUID().toString();
    Exposure exposure = new Exposure(requestId, experiment.id(), request.userId(), result.arm(),
        result.modelVersion(), ids(result), clock.millis(), tookMs, result.stateBytes(),
        result.degraded(), experiment.k(), result.coldStart());
    outcomes.exposed(exposure);
    publisher.accept(exposure);
    timer("served", result.arm(), result.degraded()).record((long) (tookMs * 1e6),
        TimeUnit.NANOSECONDS);
    if (result.degraded()) {
      degradedCounters.computeIfAbsent(result.arm(), a -> Counter.builder(
          "reranker.rerank.degraded").tag("arm", a.wireName()).register(registry)).increment();
    }
    return new RerankApi.RerankResponse(requestId, request.userId(), experiment.id(), result.arm(),
        result.modelVersion(), result.statePosition(), result.items().stream()
            .map(i -> new RerankApi.Item(i.itemId(), i.score(), i.rank(), i.fallback())).toList(),
        result.degraded(), result.coldStart(), Math.round(tookMs * 1000) / 1000.0);
  }

  private Timer timer(String role, ArmChoice arm, boolean degraded) {
    // meters are looked up once per (role, arm, degraded): building one per request costs more
    // than the scoring of a few hundred candidates
    return timers.computeIfAbsent(role + '/' + arm + '/' + degraded, key ->
        Timer.builder("reranker.rerank")
            .description("reranking latency per arm")
            .tag("role", role).tag("arm", arm.wireName())
            .tag("degraded", Boolean.toString(degraded))
            .publishPercentileHistogram()
            .register(registry));
  }

  private static List<String> ids(RerankResult r) {
    return r.items().stream().map(RerankResult.Item::itemId).toList();
  }
}
