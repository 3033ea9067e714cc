package dev.reranker.serving;

import dev.reranker.experiment.ArmAggregate;
import dev.reranker.experiment.ArmChoice;
import dev.reranker.experiment.Experiment;
import dev.reranker.experiment.ExperimentRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * The experiments' running totals as Prometheus gauges, for dashboards and alerts: per
 * (experiment, arm), over the partitions this instance owns, the users, exposures and resolved
 * exposures, and the sum of NDCG@k over the resolved ones (the primary metric across instances is
 * {@code sum(ndcg_sum) / sum(resolved)}, the report's point estimate), with the arm's configured
 * weight (for a sample-ratio panel). Each instance exports only its own partitions, so sums over
 * instances count every user once. Refreshed every {@code interval} from the join's stores;
 * while they cannot be read (a rebalance) the last values stay. The report
 * ({@code /v1/experiments/{id}/report}) remains the place for intervals and tests.
 */
public final class ExperimentMetrics implements AutoCloseable {

  private final ExperimentRegistry experiments;
  private final ExperimentAggregates aggregates;
  private final Map<String, MultiGauge> gauges = new java.util.LinkedHashMap<>();
  private volatile boolean readOnce;
  private final ScheduledExecutorService refresher = Executors.newSingleThreadScheduledExecutor(
      r -> {
        Thread t = new Thread(r, "experiment-metrics");
        t.setDaemon(true);
        return t;
      });

  public ExperimentMetrics(ExperimentRegistry experiments, ExperimentAggregates aggregates,
      MeterRegistry registry, java.time.Duration interval) {
    this.experiments = experiments;
    this.aggregates = aggregates;
    gauge(registry, "reranker.experiment.users", "users with an exposure (this instance's "
        + "partitions)");
    gauge(registry, "reranker.experiment.exposures", "exposures (this instance's partitions)");
    gauge(registry, "reranker.experiment.resolved", "exposures resolved by an interaction or "
        + "the horizon (this instance's partitions)");
    gauge(registry, "reranker.experiment.ndcg.sum", "sum of NDCG@k over resolved exposures "
        + "(this instance's partitions)");
    gauge(registry, "reranker.experiment.weight", "the arm's configured weight");
    refresh();
    // a failed refresh must not end the schedule (an exception would cancel it silently)
    refresher.scheduleWithFixedDelay(() -> {
      try {
        refresh();
      } catch (RuntimeException e) {
        org.slf4j.LoggerFactory.getLogger(ExperimentMetrics.class)
            .warn("experiment metrics not refreshed: {}", e.toString());
      }
    }, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void gauge(MeterRegistry registry, String name, String description) {
    gauges.put(name, MultiGauge.builder(name).description(description).register(registry));
  }

  /** Reads the stores once and replaces every row. */
  void refresh() {
    Map<String, List<MultiGauge.Row<?>>> rows = new java.util.LinkedHashMap<>();
    gauges.keySet().forEach(k -> rows.put(k, new ArrayList<>()));
    for (Experiment e : experiments.all()) {
      Map<ArmChoice, ArmAggregate> totals = new EnumMap<>(ArmChoice.class);
      try {
        for (ExperimentAggregates.PartitionShare share : aggregates.local(e.id())) {
          share.totals().forEach((arm, a) -> totals.merge(arm, a, ArmAggregate::merge));
        }
      } catch (ExperimentAggregates.StateUnavailable | IllegalStateException unreadable) {
        if (readOnce) {
          return; // a rebalance: keep the last values
        }
        totals.clear(); // not started yet: zeros, so that every series exists from the start
      }
      for (Map.Entry<ArmChoice, Double> w : e.weights().entrySet()) {
        if (w.getValue() <= 0) {
          continue;
        }
        ArmAggregate a = totals.getOrDefault(w.getKey(), new ArmAggregate());
        Tags tags = Tags.of("experiment", e.id(), "arm", w.getKey().wireName());
        row(rows, "reranker.experiment.users", tags, a, x -> x.ndcg().users());
        row(rows, "reranker.experiment.exposures", tags, a, ArmAggregate::exposures);
        row(rows, "reranker.experiment.resolved", tags, a, x -> x.ndcg().denominator());
        row(rows, "reranker.experiment.ndcg.sum", tags, a, x -> x.ndcg().numerator());
        double weight = w.getValue();
        rows.get("reranker.experiment.weight").add(MultiGauge.Row.of(tags, weight));
      }
    }
    rows.forEach((name, r) -> gauges.get(name).register(r, true));
    readOnce = true;
  }

  private static void row(Map<String, List<MultiGauge.Row<?>>> rows, String name, Tags tags,
      ArmAggregate a, ToDoubleFunction<ArmAggregate> value) {
    rows.get(name).add(MultiGauge.Row.of(tags, value.applyAsDouble(a)));
  }

  @Override
  public void close() {
    refresher.shutdownNow();
  }
}
