package dev.reranker.training;

import dev.reranker.data.DataSource;
import dev.reranker.data.Dataset;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.model.ModelConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
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
    return run(source, architecture, training, out, log, terminal, true);
  }

  /**
   * @param trainingRecord whether {@value #TRAINING_JSON} is written beside the model (the bundled
   *     demo models go without: their directories hold only what a rerun reproduces bit for bit)
   */
  public static Result run(DataSource source, ModelConfig architecture, TrainingConfig training,
      Path out, PrintStream log, boolean terminal, boolean trainingRecord) throws IOException {
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
        provisional.sequenceModel()), test, config.items(), Evaluator.batchSizeFor(test),
        training.seed());
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
    speed.put("threads", t.threads());
    metrics.put("training_speed", speed);

    Map<String, Object> provenance = new LinkedHashMap<>(loaded.provenance());
    provenance.put("seed", config.seed());
    provenance.put("training", trainingMap(training));
    provenance.putAll(Provenance.environment());
    ModelArtifacts.TrainedModel saved = new ModelArtifacts.TrainedModel(config, trained.weights(),
        data.items(), provisional.version(), provenance, metrics);
    ModelArtifacts.save(saved, out);
    if (trainingRecord) {
      Map<String, Object> record = trainingRecord(config, training, trained, model,
          saved.version());
      Files.writeString(out.resolve(TRAINING_JSON), JSON.writerWithDefaultPrettyPrinter()
          .writeValueAsString(record) + "\n");
    }

    Map<String, Object> report = new LinkedHashMap<>();
    report.put("model_version", saved.version());
    report.put("artifact", out.toAbsolutePath().toString());
    report.putAll(metrics);
    log.println();
    log.println(table(config.arm().wireName(), model, popularity));
    log.printf("training speed: %,.0f events/s, %.1f GFLOP/s = %.1f%% of this machine's sgemm "
        + "(%.1f GFLOP/s)%n", t.eventsPerSecond(), t.achievedGflops(), 100 * t.sgemmFraction(),
        t.sgemmGflops());
    log.printf("%d thread%s; %.1f s to the best epoch (%d), %.1f s in all%n", t.threads(),
        t.threads() == 1 ? "" : "s", trained.secondsToBest(), trained.bestEpoch(),
        trained.seconds());
    log.println("saved model " + saved.version() + " to " + out.toAbsolutePath()
        + (trainingRecord ? " (and " + TRAINING_JSON + ")" : ""));
    return new Result(saved, report);
  }

  /** Written beside the model by every run: how fast it trained, and how far it got. */
  public static final String TRAINING_JSON = "training.json";

  private static final tools.jackson.databind.ObjectMapper JSON =
      tools.jackson.databind.json.JsonMapper.builder().build();

  /**
   * {@value #TRAINING_JSON}: speed against the machine's sgemm rate measured in the same run, the
   * thread count, wall time to the best validation epoch, each epoch, the test metrics.
   */
  static Map<String, Object> trainingRecord(ModelConfig config, TrainingConfig training,
      Trainer.Result trained, Evaluator.Metrics test, String version) {
    Trainer.Throughput t = trained.throughput();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("model_version", version);
    m.put("arm", config.arm().wireName());
    m.put("items", config.items());
    m.put("threads", t.threads());
    m.put("cores", Runtime.getRuntime().availableProcessors());
    m.put("events_per_s", Math.round(t.eventsPerSecond()));
    m.put("flops_per_event", Math.round(t.flopsPerEvent()));
    m.put("achieved_gflops", round(t.achievedGflops()));
    m.put("sgemm_gflops", round(t.sgemmGflops()));
    m.put("sgemm_roofline_fraction", round(t.sgemmFraction()));
    m.put("best_epoch", trained.bestEpoch());
    m.put("seconds_to_best_epoch", round(trained.secondsToBest()));
    m.put("seconds", round(trained.seconds()));
    m.put("validation", trained.validation().toMap());
    m.put("test", test.toMap());
    List<Map<String, Object>> epochs = new java.util.ArrayList<>();
    for (Trainer.EpochRecord e : trained.epochs()) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("epoch", e.epoch());
      row.put("loss", e.loss());
      row.put("validation_hr10", e.validationHr());
      row.put("validation_ndcg10", e.validationNdcg());
      row.put("seconds", round(e.seconds()));
      epochs.add(row);
    }
    m.put("epochs", epochs);
    m.put("training", trainingMap(training));
    m.put("machine", Provenance.environment());
    return m;
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
    m.put("threads", c.threads());
    if (c.maxBatchPositions() > 0) {
      // only when set: artifacts trained without it keep their recorded provenance and versions
      m.put("max_batch_positions", c.maxBatchPositions());
    }
    return m;
  }

  static double round(double x) {
    return Math.round(x * 1000) / 1000.0;
  }
}
