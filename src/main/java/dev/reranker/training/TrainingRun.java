package dev.reranker.training;

import dev.reranker.data.DataSource;
import dev.reranker.data.Dataset;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.model.ModelConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code train} command's work: load and preprocess the data, train, evaluate the best weights
 * on the test split next to the popularity baseline, and save a versioned artifact with its
 * provenance and metrics.
 */
public final class TrainingRun {
  private TrainingRun() {}

  /** The saved model and the report printed and stored with it. */
  public record Result(ModelArtifacts.TrainedModel model, Map<String, Object> report) {}

  /**
   * @param architecture the model config; its item count is replaced by the data's
   */
  public static Result run(DataSource source, ModelConfig architecture, TrainingConfig training,
      Path out, PrintStream log, boolean terminal) throws IOException {
    DataSource.Loaded loaded = source.load();
    log.println(loaded.read().summary());
    Dataset data = loaded.dataset();
    log.println("dataset: " + data);
    ModelConfig config = architecture.withItems(data.items().size());
    Trainer.Result trained = new Trainer(config, training, log, terminal).train(data);

    ModelArtifacts.TrainedModel provisional = ModelArtifacts.TrainedModel.of(config,
        trained.weights(), data.items(), Map.of(), Map.of());
    List<Evaluator.Case> test = LeaveOneOut.test(data, training.maxLength());
    Evaluator.Metrics model = Evaluator.evaluate(Evaluator.modelScorer(
        provisional.sequenceModel()), test, config.items(), 256, training.seed());
    Evaluator.Metrics popularity = Evaluator.evaluate(Evaluator.popularityScorer(
        LeaveOneOut.trainingCounts(data)), test, config.items(), 256, training.seed());

    Map<String, Object> metrics = new LinkedHashMap<>();
    metrics.put("test", model.toMap());
    metrics.put("popularity", popularity.toMap());
    metrics.put("validation", trained.validation().toMap());
    metrics.put("best_epoch", trained.bestEpoch());
    metrics.put("epochs_run", trained.epochs().size());
    Trainer.Throughput t = trained.throughput();
    Map<String, Object> speed = new LinkedHashMap<>();
    speed.put("events_per_s", Math.round(t.eventsPerSecond()));
    speed.put("flops_per_event", Math.round(t.flopsPerEvent()));
    speed.put("achieved_gflops", round(t.achievedGflops()));
    speed.put("sgemm_gflops", round(t.sgemmGflops()));
    speed.put("sgemm_fraction", round(t.sgemmFraction()));
    metrics.put("training_speed", speed);

    Map<String, Object> provenance = new LinkedHashMap<>(loaded.provenance());
    provenance.put("seed", config.seed());
    provenance.put("training", trainingMap(training));
    provenance.putAll(Provenance.environment());
    ModelArtifacts.TrainedModel saved = new ModelArtifacts.TrainedModel(config, trained.weights(),
        data.items(), provisional.version(), provenance, metrics);
    ModelArtifacts.save(saved, out);

    Map<String, Object> report = new LinkedHashMap<>();
    report.put("model_version", saved.version());
    report.put("artifact", out.toAbsolutePath().toString());
    report.putAll(metrics);
    log.println();
    log.println(table(config.arm().wireName(), model, popularity));
    log.printf("training speed: %,.0f events/s, %.1f GFLOP/s = %.1f%% of this machine's sgemm "
        + "(%.1f GFLOP/s)%n", t.eventsPerSecond(), t.achievedGflops(), 100 * t.sgemmFraction(),
        t.sgemmGflops());
    log.println("saved model " + saved.version() + " to " + out.toAbsolutePath());
    return new Result(saved, report);
  }

  /** A markdown table of one model against popularity. */
  public static String table(String arm, Evaluator.Metrics model, Evaluator.Metrics popularity) {
    return "| model | HR@10 | NDCG@10 | sampled HR@10 | sampled NDCG@10 |\n"
        + "|---|---:|---:|---:|---:|\n"
        + row(arm, model) + row("popularity", popularity);
  }

  static String row(String name, Evaluator.Metrics m) {
    return String.format("| %s | %.4f | %.4f | %.4f | %.4f |%n", name, m.hr(), m.ndcg(),
        m.sampledHr(), m.sampledNdcg());
  }

  static Map<String, Object> trainingMap(TrainingConfig c) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("epochs", c.epochs());
    m.put("batch_size", c.batchSize());
    m.put("learning_rate", c.learningRate());
    m.put("weight_decay", c.weightDecay());
    m.put("clip_norm", c.clipNorm());
    m.put("negatives", c.negatives() == 0 ? "full softmax" : c.negatives());
    m.put("max_length", c.maxLength());
    m.put("whole_history", c.wholeHistory());
    m.put("patience", c.patience());
    m.put("seed", c.seed());
    return m;
  }

  static double round(double x) {
    return Math.round(x * 1000) / 1000.0;
  }
}
