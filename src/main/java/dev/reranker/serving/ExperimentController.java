package dev.reranker.serving;

import dev.reranker.experiment.AggregateReport;
import dev.reranker.experiment.ArmChoice;
import dev.reranker.experiment.Experiment;
import dev.reranker.experiment.ExperimentRegistry;
import dev.reranker.experiment.ShadowAgreement;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/** Experiment reports (JSON and an HTML page) and the admin API that changes experiments. */
@RestController
@Tag(name = "experiments")
class ExperimentController {

  private final ExperimentRegistry registry;
  private final ShadowAgreement shadowAgreement;
  private final ExperimentAggregates aggregates;
  private final AggregateReport.Settings reportSettings;

  ExperimentController(ExperimentRegistry registry, ShadowAgreement shadowAgreement,
      ExperimentAggregates aggregates, AggregateReport.Settings reportSettings) {
    this.registry = registry;
    this.shadowAgreement = shadowAgreement;
    this.aggregates = aggregates;
    this.reportSettings = reportSettings;
  }

  /** An experiment change: weights per arm (performer, softmax, fallback), shadow mode, k. */
  /**
   * @param type {@code ab} (default: the weights decide) or {@code interleaving} (every user gets
   *     the two model arms' lists interleaved; the same as weights {@code {"interleaved": 100}})
   */
  record ExperimentChange(Map<String, Double> weights, Boolean shadow, Integer k, String salt,
      String type) {}

  @Operation(summary = "The experiments and their arms' weights")
  @GetMapping(path = "/v1/experiments", produces = MediaType.APPLICATION_JSON_VALUE)
  List<Map<String, Object>> list() {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Experiment e : registry.all()) {
      out.add(describe(e));
    }
    return out;
  }

  @Operation(summary = "The experiment over every instance: user-level metrics with 95% CIs, "
      + "fixed-horizon and sequential tests, sample-ratio check, power, guardrails, cost; the "
      + "same whichever instance answers")
  @GetMapping(path = "/v1/experiments/{id}/report", produces = MediaType.APPLICATION_JSON_VALUE)
  Map<String, Object> report(@PathVariable String id) {
    Experiment e = experiment(id);
    ExperimentAggregates.Assembled all;
    try {
      all = aggregates.assemble(e.id());
    } catch (ExperimentAggregates.StateUnavailable ex) {
      throw ApiProblem.unavailable("experiment", ex.getMessage());
    }
    Map<String, Object> doc = AggregateReport.build(e, all.totals(), all.series(),
        reportSettings, all.foldMicrosPerEvent());
    Map<String, Object> coverage = new LinkedHashMap<>();
    coverage.put("partitions", all.partitions());
    coverage.put("missing_partitions", all.missing());
    coverage.put("complete", all.complete());
    coverage.put("unreachable", all.unreachable());
    // exposures served but never written reach no report: counted by the instances that
    // answered, since each started (all experiments). A crash also loses what was queued or
    // unacknowledged then (reranker_experiments_exposures_unacknowledged; docs/operations.md)
    coverage.put("exposures_unpublished", all.unpublished());
    if (all.unpublished() > 0) {
      coverage.put("note", all.unpublished() + " exposures were served but not written to the "
          + "exposures topic (producer refused, queue full or shutting down): the numbers leave "
          + "them out");
    }
    doc.put("coverage", coverage);
    // what the join did not see: the ingestion's rejections (reason codes) and repeated event ids
    // of the partitions above, all experiments together
    doc.put("interactions_ignored", all.ignored());
    // shadow mode's agreement between the arms: this instance's, in memory (it is the one
    // number no exposure carries); everything above is every instance's durable state
    Map<String, Object> shadow = shadowAgreement.summary(e.id());
    if (shadow != null) {
      doc.put("shadow_agreement", shadow);
    }
    if (!all.complete()) {
      @SuppressWarnings("unchecked")
      Map<String, Object> verdict = (Map<String, Object>) doc.get("verdict");
      verdict.put("summary", "incomplete: partitions " + all.missing() + " did not answer, so "
          + "their users are missing; " + verdict.get("summary"));
    }
    return doc;
  }

  @Operation(summary = "This instance's partitions' aggregates of an experiment (between "
      + "instances, for the report)")
  @GetMapping(path = ExperimentAggregates.PATH + "{id}/aggregates",
      produces = MediaType.APPLICATION_JSON_VALUE)
  ResponseEntity<String> aggregates(@PathVariable String id) {
    if (!Experiment.validId(id)) {
      throw ApiProblem.invalid("id", Experiment.ID_RULE + ", got '" + ApiProblem.echo(id) + "'");
    }
    try {
      return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON)
          .body(aggregates.localJson(id));
    } catch (ExperimentAggregates.StateUnavailable ex) {
      throw ApiProblem.unavailable("experiment", ex.getMessage());
    }
  }

  @Operation(summary = "The report as an HTML page with charts")
  @GetMapping(path = "/experiments/{id}", produces = MediaType.TEXT_HTML_VALUE)
  ResponseEntity<String> page(@PathVariable String id) {
    Experiment e = experiment(id);
    return ResponseEntity.ok().contentType(MediaType.TEXT_HTML).body(ReportPage.html(e.id()));
  }

  @Operation(summary = "Create an experiment or change its weights (admin)")
  @PutMapping(path = "/admin/experiments/{id}", consumes = MediaType.APPLICATION_JSON_VALUE,
      produces = MediaType.APPLICATION_JSON_VALUE)
  Map<String, Object> put(@PathVariable String id, @RequestBody ExperimentChange change) {
    if (!Experiment.validId(id)) {
      throw ApiProblem.invalid("id", Experiment.ID_RULE + ", got '" + ApiProblem.echo(id) + "'");
    }
    if (change != null && change.k() != null && (change.k() < 1 || change.k() > Experiment.MAX_K)) {
      throw ApiProblem.invalid("k", "k must be in [1, "
          + Experiment.MAX_K + "], got " + change.k());
    }
    if (change != null && change.salt() != null && !dev.reranker.data.Ids.valid(change.salt())) {
      throw ApiProblem.invalid("salt", "salt "
          + dev.reranker.data.Ids.problem(change.salt()));
    }
    if (change != null && change.type() != null) {
      if (change.type().equalsIgnoreCase("interleaving")) {
        if (change.weights() != null && !change.weights().isEmpty()) {
          throw ApiProblem.invalid("type", "an interleaving experiment takes no weights (it is "
              + "weights {\"interleaved\": 100}); to run it beside A/B arms, give weights "
              + "with an \"interleaved\" share instead");
        }
        change = new ExperimentChange(Map.of("interleaved", 100.0), change.shadow(), change.k(),
            change.salt(), null);
      } else if (!change.type().equalsIgnoreCase("ab")) {
        throw ApiProblem.invalid("type", "type must be 'ab' or 'interleaving', got '"
            + ApiProblem.echo(change.type()) + "'");
      }
    }
    if (change == null || change.weights() == null || change.weights().isEmpty()) {
      throw ApiProblem.invalid("weights",
          "weights per arm are required, e.g. {\"performer\": 50, \"softmax\": 50}");
    }
    Map<ArmChoice, Double> weights = new java.util.EnumMap<>(ArmChoice.class);
    try {
      change.weights().forEach((k, v) -> weights.put(ArmChoice.parse(k), v));
      return describe(registry.put(id, weights, Boolean.TRUE.equals(change.shadow()), change.k(),
          change.salt()));
    } catch (IllegalArgumentException e) {
      throw ApiProblem.invalid("weights", e.getMessage());
    } catch (IllegalStateException e) {
      // not shared with the other instances, so not applied here either: try again later
      throw ApiProblem.unavailable("experiment", e.getMessage());
    }
  }

  /** The experiment named in a path: 400 for an id no experiment can have, 404 for none. */
  private Experiment experiment(String id) {
    if (!Experiment.validId(id)) {
      throw ApiProblem.invalid("id", Experiment.ID_RULE + ", got '" + ApiProblem.echo(id) + "'");
    }
    Experiment e = registry.get(id);
    if (e == null) {
      throw ApiProblem.notFound("id", "unknown experiment '" + id + "'");
    }
    return e;
  }

  private static Map<String, Object> describe(Experiment e) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", e.id());
    Map<String, Object> weights = new LinkedHashMap<>();
    e.weights().forEach((a, w) -> weights.put(a.wireName(), w));
    m.put("weights", weights);
    Map<String, Object> buckets = new LinkedHashMap<>();
    e.allocation().counts().forEach((a, n) -> buckets.put(a.wireName(), n));
    m.put("buckets", buckets);
    m.put("shadow", e.shadow());
    m.put("k", e.k());
    boolean onlyInterleaved = e.weights().entrySet().stream().allMatch(w -> w.getValue() == 0
        || w.getKey() == ArmChoice.INTERLEAVED);
    m.put("type", onlyInterleaved ? "interleaving" : "ab");
    return m;
  }
}
