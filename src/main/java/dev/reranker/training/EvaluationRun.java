package dev.reranker.training;

import dev.reranker.data.DataSource;
import dev.reranker.data.Dataset;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.model.SequenceModel;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code evaluate} command's work: leave-one-out test metrics of a saved model on a dataset
 * (full ranking first, the sampled protocol second), the popularity baseline beside them, at one or
 * more input lengths — e.g. the Performer over histories of up to 2,048 events against the softmax
 * baseline truncated to 200 — with the time to encode and score one user, and 95% bootstrap
 * intervals over users ({@link Bootstrap}).
 */
public final class EvaluationRun {
  private EvaluationRun() {}

  /**
   * @param lengths input window lengths; the first gives the report's top-level metrics
   */
  public static Map<String, Object> run(ModelArtifacts.TrainedModel trained, DataSource source,
      List<Integer> lengths, long seed, PrintStream log) throws IOException {
    DataSource.Loaded loaded = source.load();
    log.println(loaded.read().summary());
    Dataset data = loaded.dataset().withItemIds(trained.items());
    if (data.droppedEvents() > 0) {
      log.printf("%d events have items the model does not know; left out%n",
          data.droppedEvents());
    }
    int items = trained.config().items();
    SequenceModel model = trained.sequenceModel();
    Evaluator.Metrics popularity = Evaluator.evaluate(Evaluator.popularityScorer(
        LeaveOneOut.trainingCounts(data)), LeaveOneOut.test(data, lengths.get(0)), items, 256,
        seed);

    Map<String, Object> report = new LinkedHashMap<>();
    report.put("model_version", trained.version());
    report.put("attention", trained.config().arm().wireName());
    report.put("data", loaded.provenance());
    List<Map<String, Object>> byLength = new ArrayList<>();
    StringBuilder table = new StringBuilder("| model | max events | HR@10 (95% CI) | NDCG@10 (95% "
        + "CI) | sampled HR@10 | sampled NDCG@10 | ms/user |\n|---|---:|---:|---:|---:|---:|---:|\n");
    Evaluator.Scorer scorer = Evaluator.modelScorer(model);
    for (int length : lengths) {
      List<Evaluator.Case> cases = LeaveOneOut.test(data, length);
      Evaluator.evaluate(scorer, cases.subList(0, Math.min(20, cases.size())), items, 1, seed);
      long start = System.nanoTime();
      Evaluator.PerUser perUser = Evaluator.evaluatePerUser(scorer, cases, items, 1, seed);
      double msPerUser = (System.nanoTime() - start) / 1e6 / Math.max(1, cases.size());
      Evaluator.Metrics m = perUser.metrics();
      Bootstrap.Interval hrCi = Bootstrap.mean(perUser.hits(), Bootstrap.RESAMPLES, seed);
      Bootstrap.Interval ndcgCi = Bootstrap.mean(perUser.ndcgs(), Bootstrap.RESAMPLES, seed);
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("max_length", length);
      entry.putAll(m.toMap());
      entry.put("hr@10_ci95", hrCi.toArray());
      entry.put("ndcg@10_ci95", ndcgCi.toArray());
      entry.put("mean_events_per_user", TrainingRun.round(cases.stream()
          .mapToInt(c -> c.window().length()).average().orElse(0)));
      entry.put("ms_per_user", TrainingRun.round(msPerUser));
      byLength.add(entry);
      if (byLength.size() == 1) {
        report.putAll(m.toMap());
        report.put("ms_per_user", TrainingRun.round(msPerUser));
      }
      table.append(String.format("| %s | %d | %.4f (%.4f–%.4f) | %.4f (%.4f–%.4f) | %.4f | %.4f "
          + "| %.2f |%n", trained.config().arm().wireName(), length, m.hr(), hrCi.low(),
          hrCi.high(), m.ndcg(), ndcgCi.low(), ndcgCi.high(), m.sampledHr(), m.sampledNdcg(),
          msPerUser));
      log.printf("max %d events: HR@10 %.4f NDCG@10 %.4f (%.2f ms/user)%n", length, m.hr(),
          m.ndcg(), msPerUser);
    }
    table.append(String.format("| popularity | – | %.4f | %.4f | %.4f | %.4f | – |%n",
        popularity.hr(), popularity.ndcg(), popularity.sampledHr(), popularity.sampledNdcg()));
    report.put("popularity", popularity.toMap());
    report.put("by_max_length", byLength);
    report.put("markdown", table.toString());
    log.println();
    log.print(table);
    return report;
  }
}
