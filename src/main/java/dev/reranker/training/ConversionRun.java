package dev.reranker.training;

import dev.reranker.attention.FavorProjection;
import dev.reranker.data.DataSource;
import dev.reranker.data.Dataset;
import dev.reranker.model.Arm;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.model.ModelConversion;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code convert} command's work: a softmax model becomes a Performer with the same weights
 * ({@link ModelConversion}), evaluated zero-shot on the test split and, given a fine-tune budget,
 * after a short fine-tune on the training split; each artifact is saved with its parent in its
 * provenance, and a report gives the quality each keeps of the softmax model's.
 *
 * <p>The fine-tune budget is a share of the parent's own training: its epochs ran ×
 * {@code fineTuneShare}, rounded down (at least one), at the parent's batch size, window and loss,
 * so its steps are at most that share of the parent's (the same data gives the same steps per
 * epoch). Early stopping on validation NDCG@10 picks the epoch, as in training.
 *
 * <p>The fine-tune is extra training as well as recovery: a converged softmax model trained 10%
 * longer may score higher too (on ml-latest-small, 1.00–1.09 of itself). With {@code control} the
 * parent is fine-tuned alike, as softmax, and the report gives the conversion against it.
 */
public final class ConversionRun {
  private ConversionRun() {}

  /** What a conversion produced: the report and the artifacts' directories. */
  public record Result(Map<String, Object> report, Path zeroShot, Path fineTuned) {}

  /**
   * @param softmax the parent model
   * @param fineTuneShare the fine-tune's budget as a share of the parent's epochs; 0: zero-shot only
   * @param fineTuneLearningRate the fine-tune's AdamW step size
   * @param control also fine-tune the parent itself, as softmax, with the same budget and settings:
   *     the control that tells recovery from the approximation apart from the extra training
   * @param threads data-parallel threads of the fine-tune
   * @param out directory: {@code zero-shot/}, {@code fine-tuned/} and {@code convert.json}
   */
  public static Result run(ModelArtifacts.TrainedModel softmax, DataSource source, int features,
      long projectionSeed, double fineTuneShare, double fineTuneLearningRate, boolean control,
      int threads, Path out, PrintStream log) throws IOException {
    if (softmax.config().arm() != Arm.SOFTMAX) {
      throw new IllegalArgumentException("--model must be a softmax model; "
          + softmax.version() + " is " + softmax.config().arm().wireName());
    }
    if (!(fineTuneShare >= 0 && fineTuneShare <= 1)) {
      throw new IllegalArgumentException("the fine-tune share must be in [0, 1], got "
          + fineTuneShare);
    }
    if (control && fineTuneShare == 0) {
      throw new IllegalArgumentException("the control fine-tunes the parent alike: it needs a "
          + "fine-tune share > 0");
    }
    DataSource.Loaded loaded = source.load();
    log.println(loaded.read().summary());
    Dataset data = loaded.dataset().withItemIds(softmax.items());
    Map<String, Object> parentTraining = parentTraining(softmax);
    int maxLength = intOf(parentTraining, "max_length", 200);
    int items = softmax.config().items();
    List<Evaluator.Case> test = LeaveOneOut.test(data, maxLength);
    long evalSeed = 42;

    ModelArtifacts.TrainedModel zeroShot = ModelConversion.toPerformer(softmax, features,
        FavorProjection.RowNorms.CHI, projectionSeed);
    Evaluator.PerUser parentUsers = evaluate(softmax, test, items, evalSeed);
    Evaluator.PerUser zeroShotUsers = evaluate(zeroShot, test, items, evalSeed);
    Evaluator.Metrics parentMetrics = parentUsers.metrics();
    Evaluator.Metrics zeroShotMetrics = zeroShotUsers.metrics();
    log.printf("softmax %s: test NDCG@10 %.4f; converted (m = %d) zero-shot %.4f (%.3f of it)%n",
        softmax.version(), parentMetrics.ndcg(), features, zeroShotMetrics.ndcg(),
        ratio(zeroShotMetrics.ndcg(), parentMetrics.ndcg()));
    Path zeroShotDir = out.resolve("zero-shot");
    ModelArtifacts.TrainedModel savedZeroShot = withMetrics(zeroShot, zeroShotMetrics, Map.of());
    ModelArtifacts.save(savedZeroShot, zeroShotDir);

    Map<String, Object> report = new LinkedHashMap<>();
    report.put("parent", softmax.version());
    report.put("features", features);
    report.put("projection_seed", projectionSeed);
    report.put("max_length", maxLength);
    report.put("data", loaded.provenance());
    report.put("softmax", parentMetrics.toMap());
    Map<String, Object> zs = new LinkedHashMap<>(zeroShotMetrics.toMap());
    zs.put("model_version", savedZeroShot.version());
    zs.put("ndcg_retained", round(ratio(zeroShotMetrics.ndcg(), parentMetrics.ndcg())));
    zs.put("hr_retained", round(ratio(zeroShotMetrics.hr(), parentMetrics.hr())));
    zs.put("ndcg_minus_softmax_ci95", Bootstrap.difference(zeroShotUsers.ndcgs(),
        parentUsers.ndcgs(), Bootstrap.RESAMPLES, evalSeed).toArray());
    report.put("zero_shot", zs);

    Path fineTunedDir = null;
    if (fineTuneShare > 0) {
      int parentEpochs = intOf(softmax.metrics(), "epochs_run", 0);
      if (parentEpochs < 1) {
        throw new IllegalArgumentException("the parent model records no epochs_run; its "
            + "fine-tune budget cannot be sized");
      }
      int epochs = Math.max(1, (int) Math.floor(parentEpochs * fineTuneShare));
      TrainingConfig training = TrainingConfig.builder().epochs(epochs).patience(epochs)
          .batchSize(intOf(parentTraining, "batch_size", 16))
          .learningRate(fineTuneLearningRate)
          .weightDecay(doubleOf(parentTraining, "weight_decay", 0))
          .clipNorm(doubleOf(parentTraining, "clip_norm", 1.0))
          .negatives(parentTraining.get("negatives") instanceof Number n ? n.intValue() : 0)
          .maxLength(maxLength)
          .wholeHistory(!Boolean.FALSE.equals(parentTraining.get("whole_history")))
          .seed(projectionSeed).threads(threads).build();
      log.printf("fine-tuning %d epoch%s (the parent ran %d) at learning rate %s%n", epochs,
          epochs == 1 ? "" : "s", parentEpochs, fineTuneLearningRate);
      Trainer.Result tuned = new Trainer(zeroShot.config(), training, log, false)
          .train(data, zeroShot.weights());
      ModelArtifacts.TrainedModel fineTuned = ModelArtifacts.TrainedModel.of(zeroShot.config(),
          tuned.weights(), zeroShot.items(), zeroShot.provenance(), Map.of());
      Evaluator.PerUser fineTunedUsers = evaluate(fineTuned, test, items, evalSeed);
      Evaluator.Metrics fineTunedMetrics = fineTunedUsers.metrics();
      Map<String, Object> fineTune = new LinkedHashMap<>();
      fineTune.put("epochs", epochs);
      fineTune.put("best_epoch", tuned.bestEpoch());
      fineTune.put("parent_epochs", parentEpochs);
      fineTune.put("steps_share_of_parent", round((double) epochs / parentEpochs));
      fineTune.put("training", TrainingRun.trainingMap(training));
      fineTunedDir = out.resolve("fine-tuned");
      ModelArtifacts.TrainedModel savedFineTuned = withMetrics(fineTuned, fineTunedMetrics,
          Map.of("fine_tune", fineTune));
      ModelArtifacts.save(savedFineTuned, fineTunedDir);
      Map<String, Object> ft = new LinkedHashMap<>(fineTunedMetrics.toMap());
      ft.put("model_version", savedFineTuned.version());
      ft.put("ndcg_retained", round(ratio(fineTunedMetrics.ndcg(), parentMetrics.ndcg())));
      ft.put("hr_retained", round(ratio(fineTunedMetrics.hr(), parentMetrics.hr())));
      ft.put("ndcg_minus_softmax_ci95", Bootstrap.difference(fineTunedUsers.ndcgs(),
          parentUsers.ndcgs(), Bootstrap.RESAMPLES, evalSeed).toArray());
      ft.putAll(fineTune);
      if (control) {
        log.printf("control: fine-tuning the softmax parent itself for the same %d epoch%s%n",
            epochs, epochs == 1 ? "" : "s");
        Trainer.Result parentTuned = new Trainer(softmax.config(), training, log, false)
            .train(data, softmax.weights());
        ModelArtifacts.TrainedModel controlModel = ModelArtifacts.TrainedModel.of(
            softmax.config(), parentTuned.weights(), softmax.items(), softmax.provenance(),
            Map.of());
        Evaluator.PerUser controlUsers = evaluate(controlModel, test, items, evalSeed);
        Evaluator.Metrics controlMetrics = controlUsers.metrics();
        Map<String, Object> c = new LinkedHashMap<>(controlMetrics.toMap());
        c.put("model_version", controlModel.version()); // not saved: a baseline, not an artifact
        c.put("best_epoch", parentTuned.bestEpoch());
        c.put("ndcg_of_softmax", round(ratio(controlMetrics.ndcg(), parentMetrics.ndcg())));
        c.put("ndcg_minus_softmax_ci95", Bootstrap.difference(controlUsers.ndcgs(),
            parentUsers.ndcgs(), Bootstrap.RESAMPLES, evalSeed).toArray());
        report.put("control", c);
        ft.put("ndcg_retained_of_control", round(ratio(fineTunedMetrics.ndcg(),
            controlMetrics.ndcg())));
        ft.put("ndcg_minus_control_ci95", Bootstrap.difference(fineTunedUsers.ndcgs(),
            controlUsers.ndcgs(), Bootstrap.RESAMPLES, evalSeed).toArray());
        log.printf("control: the softmax parent fine-tuned alike %.4f (%.3f of it); the "
            + "conversion keeps %.3f of the control%n", controlMetrics.ndcg(),
            ratio(controlMetrics.ndcg(), parentMetrics.ndcg()),
            ratio(fineTunedMetrics.ndcg(), controlMetrics.ndcg()));
      }
      report.put("fine_tuned", ft);
      log.printf("fine-tuned: test NDCG@10 %.4f (%.3f of the softmax model's)%n",
          fineTunedMetrics.ndcg(), ratio(fineTunedMetrics.ndcg(), parentMetrics.ndcg()));
    }
    Files.createDirectories(out);
    Files.writeString(out.resolve("convert.json"), JSON.writerWithDefaultPrettyPrinter()
        .writeValueAsString(report) + "\n");
    return new Result(report, zeroShotDir, fineTunedDir);
  }

  private static Evaluator.PerUser evaluate(ModelArtifacts.TrainedModel model,
      List<Evaluator.Case> test, int items, long seed) {
    return Evaluator.evaluatePerUser(Evaluator.modelScorer(model.sequenceModel()), test, items,
        Evaluator.batchSizeFor(test), seed);
  }

  private static ModelArtifacts.TrainedModel withMetrics(ModelArtifacts.TrainedModel model,
      Evaluator.Metrics test, Map<String, Object> provenanceExtra) {
    Map<String, Object> metrics = new LinkedHashMap<>();
    metrics.put("test", test.toMap());
    Map<String, Object> provenance = new LinkedHashMap<>(model.provenance());
    provenance.putAll(provenanceExtra);
    provenance.putAll(Provenance.environment());
    return new ModelArtifacts.TrainedModel(model.config(), model.weights(), model.items(),
        model.version(), provenance, metrics);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> parentTraining(ModelArtifacts.TrainedModel softmax) {
    Object t = softmax.provenance() == null ? null : softmax.provenance().get("training");
    return t instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
  }

  private static int intOf(Map<String, Object> m, String key, int otherwise) {
    return m != null && m.get(key) instanceof Number n ? n.intValue() : otherwise;
  }

  private static double doubleOf(Map<String, Object> m, String key, double otherwise) {
    return m != null && m.get(key) instanceof Number n ? n.doubleValue() : otherwise;
  }

  /** a ÷ b; 0 when b is 0 (a model with NDCG 0 has nothing to retain). */
  private static double ratio(double a, double b) {
    return b == 0 ? 0 : a / b;
  }

  private static double round(double x) {
    return Math.round(x * 1000) / 1000.0;
  }

  private static final tools.jackson.databind.ObjectMapper JSON =
      tools.jackson.databind.json.JsonMapper.builder().build();
}
