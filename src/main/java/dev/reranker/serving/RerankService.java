package dev.reranker.serving;

import dev.reranker.experiment.TeamDraftInterleaving;

import dev.reranker.experiment.ArmChoice;
import dev.reranker.experiment.Experiment;
import dev.reranker.experiment.ExperimentRegistry;
import dev.reranker.experiment.Exposure;
import dev.reranker.experiment.ShadowAgreement;
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
  private final ShadowAgreement shadowAgreement;
  private final Consumer<Exposure> publisher;
  private final MeterRegistry registry;
  private final Duration defaultDeadline;
  private final Clock clock;
  private final Map<String, Timer> timers = new ConcurrentHashMap<>();
  private final Map<ArmChoice, Counter> degradedCounters = new ConcurrentHashMap<>();

  public RerankService(Reranker reranker, ExperimentRegistry experiments,
      ShadowAgreement shadowAgreement,
      Consumer<Exposure> publisher, MeterRegistry registry, Duration defaultDeadline, Clock clock) {
    this.reranker = reranker;
    this.experiments = experiments;
    this.shadowAgreement = shadowAgreement;
    this.publisher = publisher;
    this.registry = registry;
    this.defaultDeadline = defaultDeadline;
    this.clock = clock;
    // registered up front, at 0: a series that appears only with the first degraded answer makes
    // a dashboard's or an alert's ratio absent, not 0, until then
    for (ArmChoice arm : ArmChoice.values()) {
      degraded(arm);
    }
  }

  private Counter degraded(ArmChoice arm) {
    return degradedCounters.computeIfAbsent(arm, a -> Counter.builder("reranker.rerank.degraded")
        .description("answers that are the fallback order for want of time or state")
        .tag("arm", a.wireName()).register(registry));
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
      if (!Experiment.validId(experimentId)) {
        throw ApiProblem.invalid("experiment", Experiment.ID_RULE + ", got '"
            + ApiProblem.echo(experimentId) + "'");
      }
      throw ApiProblem.notFound("experiment", "unknown experiment '" + experimentId + "'");
    }
    long start = System.nanoTime();
    long cpuStart = CpuTime.thread();
    Reranker.takeWorkerCpuNanos(); // nothing left over from an earlier request on this thread
    long budget = (deadline == null ? defaultDeadline : deadline).toNanos();
    ArmChoice arm = experiment.assign(request.userId());
    int k = request.k() == null ? request.candidates().size()
        : Math.min(request.k(), request.candidates().size());
    List<Reranker.InlineEvent> inline = request.history() == null ? null
        : request.history().stream().map(e -> new Reranker.InlineEvent(e.itemId(),
            e.timestamp())).toList();
    String requestId = UUID.randomUUID().toString();
    RerankResult result;
    List<ArmChoice> teams = null;
    try {
      if (arm == ArmChoice.INTERLEAVED) {
        Interleaved both = interleaved(request.userId(), request.candidates(), k, start + budget,
            inline, stateReachable, requestId);
        result = both.result();
        teams = both.teams();
      } else {
        result = stateReachable || inline != null || arm.arm() == null
            ? reranker.rerank(request.userId(), request.candidates(), k, arm, start + budget,
                inline)
            : reranker.fallback(request.userId(), request.candidates(), k, arm, true, false);
      }
    } catch (RuntimeException e) {
      // the arm failed this user: it counts against the arm's error rate (the request is
      // answered 500 by the caller's error handling)
      Exposure failed = Exposure.failed(requestId, experiment.id(), request.userId(), arm,
          clock.millis(), (System.nanoTime() - start) / 1e6, experiment.k());
      publisher.accept(failed);
      throw e;
    }
    double tookMs = (System.nanoTime() - start) / 1e6;
    // the served answer's CPU, before any shadow run (that is the other arm's cost)
    double cpuMicros = (CpuTime.thread() - cpuStart + Reranker.takeWorkerCpuNanos()) / 1e3;

    // no shadow run behind a degraded answer: agreement with a fallback order says nothing
    if (experiment.shadow() && arm.arm() != null && !result.degraded()) {
      ArmChoice other = arm == ArmChoice.PERFORMER ? ArmChoice.SOFTMAX : ArmChoice.PERFORMER;
      long shadowStart = System.nanoTime();
      RerankResult shadow = reranker.rerank(request.userId(), request.candidates(), k,
          other, shadowStart + budget, inline);
      double shadowMs = (System.nanoTime() - shadowStart) / 1e6;
      shadowAgreement.add(experiment.id(), ShadowAgreement.compare(ids(result), ids(shadow),
          experiment.k(), tookMs, shadowMs, arm));
      timer("shadow", other, shadow.degraded()).record(
          (long) (shadowMs * 1e6), TimeUnit.NANOSECONDS);
    }

    Exposure exposure = new Exposure(requestId, experiment.id(), request.userId(), result.arm(),
        result.modelVersion(), ids(result), clock.millis(), tookMs, result.stateBytes(),
        result.degraded(), experiment.k(), result.coldStart(), teams, cpuMicros, false);
    publisher.accept(exposure);
    timer("served", result.arm(), result.degraded()).record((long) (tookMs * 1e6),
        TimeUnit.NANOSECONDS);
    if (result.degraded()) {
      degraded(result.arm()).increment();
    }
    return new RerankApi.RerankResponse(requestId, request.userId(), experiment.id(), result.arm(),
        result.modelVersion(), result.statePosition(), result.items().stream()
            .map(RerankApi.Item::of).toList(),
        result.degraded(), result.coldStart(), Math.round(tookMs * 1000) / 1000.0);
  }

  private record Interleaved(RerankResult result, List<ArmChoice> teams) {}

  /**
   * Both model arms rank the candidates and the served list is Team-Draft interleaved from them
   * (the coin seeded by the request id, so a request's list can be recomputed). Either arm
   * degraded: the fallback order, degraded, with no teams (no credit to give).
   */
  private Interleaved interleaved(String userId, List<String> candidates, int k, long deadline,
      List<Reranker.InlineEvent> inline, boolean stateReachable, String requestId) {
    if (!stateReachable && inline == null) {
      return new Interleaved(reranker.fallback(userId, candidates, k, ArmChoice.INTERLEAVED, true,
          false), null);
    }
    RerankResult a = reranker.rerank(userId, candidates, k, ArmChoice.PERFORMER, deadline, inline);
    RerankResult b = reranker.rerank(userId, candidates, k, ArmChoice.SOFTMAX, deadline, inline);
    if (a.degraded() || b.degraded()) {
      return new Interleaved(reranker.fallback(userId, candidates, k, ArmChoice.INTERLEAVED, true,
          a.coldStart() || b.coldStart()), null);
    }
    TeamDraftInterleaving.Interleaved il = TeamDraftInterleaving.interleave(ids(a), ids(b), k,
        new java.util.SplittableRandom(requestId.hashCode()));
    Map<String, RerankResult.Item> fromA = new java.util.HashMap<>();
    a.items().forEach(i -> fromA.put(i.itemId(), i));
    Map<String, RerankResult.Item> fromB = new java.util.HashMap<>();
    b.items().forEach(i -> fromB.put(i.itemId(), i));
    List<RerankResult.Item> items = new java.util.ArrayList<>();
    List<ArmChoice> teams = new java.util.ArrayList<>();
    for (int i = 0; i < il.items().size(); i++) {
      boolean teamA = il.teams().get(i) == TeamDraftInterleaving.Team.A;
      RerankResult.Item source = (teamA ? fromA : fromB).get(il.items().get(i));
      // the contributing arm's own score: the two arms' scores are not on one scale
      items.add(new RerankResult.Item(source.itemId(), source.score(), i + 1, source.fallback()));
      teams.add(teamA ? ArmChoice.PERFORMER : ArmChoice.SOFTMAX);
    }
    return new Interleaved(new RerankResult(userId, ArmChoice.INTERLEAVED,
        interleavedVersion(a.modelVersion(), b.modelVersion()), Math.max(a.statePosition(),
        b.statePosition()), items, false, a.coldStart() && b.coldStart(),
        a.stateBytes() + b.stateBytes()), teams);
  }

  /** The versions that ranked an interleaved list: both, one (the other fell back), or none. */
  static String interleavedVersion(String performer, String softmax) {
    if (performer == null || softmax == null) {
      return performer != null ? performer : softmax;
    }
    return performer + "+" + softmax;
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
