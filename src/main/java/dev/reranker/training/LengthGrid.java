package dev.reranker.training;

import dev.reranker.data.DataSource;
import dev.reranker.data.Dataset;
import dev.reranker.model.Arm;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.model.ModelConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Does reading longer histories pay? Models of both arms trained at several window lengths and
 * seeds, each evaluated on the same leave-one-out test split at several input lengths, with 95%
 * bootstrap intervals over users.
 *
 * <p>Per (arm, training window, input length) the metrics are the mean over seeds; the interval
 * resamples users of their per-user results averaged over the seeds (users are the randomised unit;
 * the seeds' spread is reported beside it, per seed). The headline comparison is paired and fixed
 * in advance: the Performer at the grid's last window and length (whole and whole) against softmax
 * trained and read at 200, per user, on all test users and on those whose input history is longer
 * than 200 events, where reading more can change anything at all.
 *
 * <p>A length of 0 means the whole history. A cell whose training runs out of memory (the softmax
 * arm's attention is quadratic in the window) is recorded as such and skipped. Trained models are
 * kept under {@code modelsDir} (one directory per arm, window and seed) and reused, so a long grid
 * can be resumed where it stopped.
 */
public final class LengthGrid {
  private LengthGrid() {}

  /** The softmax baseline's window and input length in the headline comparison. */
  public static final int BASELINE_LENGTH = 200;

  /**
   * @param trainWindows training windows; 0 = whole histories
   * @param lengths input lengths at evaluation; 0 = whole histories
   * @param architecture the model; its arm and seed are set per cell, items from the data
   * @param training the optimiser; its window and seed are set per cell
   * @param modelsDir where trained models are kept and found again
   * @param softmaxMaxWindow the longest window the softmax arm trains at (its attention is
   *     quadratic in the window); longer ones, whole histories included, are skipped and reported
   */
  public record Options(List<Arm> arms, List<Integer> trainWindows, List<Integer> lengths,
      List<Long> seeds, ModelConfig architecture, TrainingConfig training, Path modelsDir,
      int softmaxMaxWindow) {
    public Options {
      if (arms.isEmpty() || trainWindows.isEmpty() || lengths.isEmpty() || seeds.isEmpty()) {
        throw new IllegalArgumentException("arms, windows, lengths and seeds must be given");
      }
      for (int w : trainWindows) {
        if (w < 0 || w == 1) {
          throw new IllegalArgumentException("training windows must be ≥ 2 or 0 (whole), got " + w);
        }
      }
      for (int l : lengths) {
        if (l < 0) {
          throw new IllegalArgumentException("input lengths must be ≥ 1 or 0 (whole), got " + l);
        }
      }
    }
  }

  public static Map<String, Object> run(DataSource source, Options options, PrintStream log)
      throws IOException {
    DataSource.Loaded loaded = source.load();
    Dataset data = loaded.dataset();
    int longest = 0;
    for (Dataset.UserHistory u : data.users()) {
      longest = Math.max(longest, u.length());
    }
    List<Evaluator.Case> reference = LeaveOneOut.test(data, Integer.MAX_VALUE);
    int longUsers = 0;
    boolean[] isLong = new boolean[reference.size()];
    for (int i = 0; i < reference.size(); i++) {
      isLong[i] = reference.get(i).history().length > BASELINE_LENGTH;
      longUsers += isLong[i] ? 1 : 0;
    }
    log.printf("%s; %d test users, %d with more than %d input events; longest history %d%n",
        data, reference.size(), longUsers, BASELINE_LENGTH, longest);
    int items = data.items().size();

    List<Map<String, Object>> cells = new ArrayList<>();
    Map<String, double[][]> ndcgBySeed = new LinkedHashMap<>(); // cell key → [seed][user]
    List<Map<String, Object>> ranOut = new ArrayList<>();
    List<Map<String, Object>> skipped = new ArrayList<>();
    for (Arm arm : options.arms()) {
      for (int window : options.trainWindows()) {
        int trainLength = window == 0 ? longest : window;
        if (arm == Arm.SOFTMAX && trainLength > options.softmaxMaxWindow()) {
          Map<String, Object> r = new LinkedHashMap<>();
          r.put("arm", arm.wireName());
          r.put("train_window", name(window));
          r.put("reason", "window " + trainLength + " above the softmax arm's limit of "
              + options.softmaxMaxWindow() + " (--softmax-max-window)");
          skipped.add(r);
          log.printf("softmax, window %s: skipped (%d events > %d)%n", name(window), trainLength,
              options.softmaxMaxWindow());
          continue;
        }
        List<ModelArtifacts.TrainedModel> models = new ArrayList<>();
        for (long seed : options.seeds()) {
          try {
            models.add(trained(data, arm, trainLength, window, seed, options, loaded, log));
          } catch (OutOfMemoryError | RuntimeException e) {
            if (!outOfMemory(e)) {
              throw e;
            }
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("arm", arm.wireName());
            r.put("train_window", name(window));
            r.put("seed", seed);
            r.put("reason", String.valueOf(e.getMessage()));
            ranOut.add(r);
            log.printf("%s, window %s, seed %d: ran out of memory (%s); cell skipped%n",
                arm.wireName(), name(window), seed, e.getMessage());
            models.clear();
            break;
          }
        }
        if (models.isEmpty()) {
          continue;
        }
        for (int length : options.lengths()) {
          List<Evaluator.Case> cases = LeaveOneOut.test(data, length == 0 ? Integer.MAX_VALUE
              : length);
          double[][] hits = new double[models.size()][];
          double[][] ndcgs = new double[models.size()][];
          List<Double> hrPerSeed = new ArrayList<>();
          List<Double> ndcgPerSeed = new ArrayList<>();
          for (int s = 0; s < models.size(); s++) {
            Evaluator.PerUser r = Evaluator.evaluatePerUser(Evaluator.modelScorer(
                models.get(s).sequenceModel()), cases, items, Evaluator.batchSizeFor(cases), 42);
            hits[s] = r.hits();
            ndcgs[s] = r.ndcgs();
            hrPerSeed.add(round(r.metrics().hr()));
            ndcgPerSeed.add(round(r.metrics().ndcg()));
          }
          double[] hitMean = meanOverSeeds(hits);
          double[] ndcgMean = meanOverSeeds(ndcgs);
          Map<String, Object> cell = new LinkedHashMap<>();
          cell.put("arm", arm.wireName());
          cell.put("train_window", name(window));
          cell.put("length", name(length));
          cell.put("hr@10", round(mean(hitMean)));
          cell.put("ndcg@10", round(mean(ndcgMean)));
          cell.put("hr@10_ci95", Bootstrap.mean(hitMean, Bootstrap.RESAMPLES, 1).toArray());
          cell.put("ndcg@10_ci95", Bootstrap.mean(ndcgMean, Bootstrap.RESAMPLES, 1).toArray());
          cell.put("hr@10_per_seed", hrPerSeed);
          cell.put("ndcg@10_per_seed", ndcgPerSeed);
          cell.put("hr@10_long_users", round(mean(subset(hitMean, isLong))));
          cell.put("ndcg@10_long_users", round(mean(subset(ndcgMean, isLong))));
          cells.add(cell);
          ndcgBySeed.put(key(arm, window, length), ndcgs);
          log.printf("%s, window %s, input %s: HR@10 %.4f NDCG@10 %.4f %s (seeds %s); users "
              + "longer than %d: HR@10 %.4f NDCG@10 %.4f%n", arm.wireName(), name(window),
              name(length), mean(hitMean), mean(ndcgMean),
              Bootstrap.mean(ndcgMean, Bootstrap.RESAMPLES, 1), ndcgPerSeed, BASELINE_LENGTH,
              mean(subset(hitMean, isLong)), mean(subset(ndcgMean, isLong)));
        }
      }
    }

    Map<String, Object> report = new LinkedHashMap<>();
    report.put("benchmark", "lengths");
    report.put("data", loaded.provenance());
    report.put("test_users", reference.size());
    report.put("test_users_longer_than_200", longUsers);
    report.put("longest_history", longest);
    report.put("seeds", options.seeds());
    report.put("training", TrainingRun.trainingMap(options.training()));
    report.put("cells", cells);
    report.put("ran_out_of_memory", ranOut);
    report.put("skipped", skipped);
    report.put("comparison", comparison(cells, ndcgBySeed, isLong, options));
    report.put("markdown", table(cells));
    report.put("machine", Provenance.environment());
    return report;
  }

  /**
   * The Performer at the grid's last training window and last input length (whole and whole by
   * default: the product's claim, fixed before looking) against softmax at window and length 200,
   * paired per user.
   */
  static Map<String, Object> comparison(List<Map<String, Object>> cells,
      Map<String, double[][]> ndcgBySeed, boolean[] isLong, Options options) {
    Map<String, Object> out = new LinkedHashMap<>();
    String baselineKey = Arm.SOFTMAX.wireName() + "/" + BASELINE_LENGTH + "/" + BASELINE_LENGTH;
    double[][] baseline = ndcgBySeed.get(baselineKey);
    int window = options.trainWindows().get(options.trainWindows().size() - 1);
    int length = options.lengths().get(options.lengths().size() - 1);
    Map<String, Object> claim = null;
    for (Map<String, Object> c : cells) {
      if (c.get("arm").equals(Arm.PERFORMER.wireName())
          && c.get("train_window").equals(name(window)) && c.get("length").equals(name(length))) {
        claim = c;
      }
    }
    if (baseline == null || claim == null) {
      out.put("available", false);
      out.put("why", "needs softmax at window 200 and input 200, and the Performer at window "
          + name(window) + " and input " + name(length));
      return out;
    }
    double[][] performer = ndcgBySeed.get(claim.get("arm") + "/" + claim.get("train_window") + "/"
        + claim.get("length"));
    double[] p = meanOverSeeds(performer);
    double[] b = meanOverSeeds(baseline);
    out.put("available", true);
    out.put("performer", Map.of("train_window", claim.get("train_window"), "length",
        claim.get("length")));
    out.put("softmax", Map.of("train_window", BASELINE_LENGTH, "length", BASELINE_LENGTH));
    out.put("ndcg@10_difference", round(mean(p) - mean(b)));
    out.put("ndcg@10_difference_ci95", Bootstrap.difference(p, b, Bootstrap.RESAMPLES, 2)
        .toArray());
    if (performer.length == baseline.length) {
      List<Double> perSeed = new ArrayList<>();
      for (int s = 0; s < performer.length; s++) {
        perSeed.add(round(mean(performer[s]) - mean(baseline[s])));
      }
      out.put("ndcg@10_difference_per_seed", perSeed);
    }
    double[] pl = subset(p, isLong);
    double[] bl = subset(b, isLong);
    if (pl.length > 0) {
      out.put("long_users", pl.length);
      out.put("ndcg@10_difference_long_users", round(mean(pl) - mean(bl)));
      out.put("ndcg@10_difference_long_users_ci95", Bootstrap.difference(pl, bl,
          Bootstrap.RESAMPLES, 3).toArray());
    }
    return out;
  }

  private static ModelArtifacts.TrainedModel trained(Dataset data, Arm arm, int trainLength,
      int window, long seed, Options options, DataSource.Loaded loaded, PrintStream log)
      throws IOException {
    Path dir = options.modelsDir().resolve(arm.wireName() + "-w" + name(window) + "-s" + seed);
    if (Files.isRegularFile(dir.resolve(ModelArtifacts.MODEL_JSON))) {
      log.printf("%s, window %s, seed %d: reusing %s%n", arm.wireName(), name(window), seed, dir);
      return ModelArtifacts.load(dir);
    }
    ModelConfig a = options.architecture();
    ModelConfig config = new ModelConfig(data.items().size(), a.dim(), a.layers(), a.heads(),
        a.ffnDim(), arm, a.kernel(), a.features(), a.rowNorms(), a.chunk(), a.dropout(), seed);
    TrainingConfig t = options.training();
    TrainingConfig training = t.withWindowAndSeed(trainLength, seed);
    log.printf("training %s, window %s, seed %d%n", arm.wireName(), name(window), seed);
    Trainer.Result result = new Trainer(config, training, log, false).train(data);
    Map<String, Object> provenance = new LinkedHashMap<>(loaded.provenance());
    provenance.put("seed", seed);
    provenance.put("training", TrainingRun.trainingMap(training));
    provenance.putAll(Provenance.environment());
    Map<String, Object> metrics = new LinkedHashMap<>();
    metrics.put("validation", result.validation().toMap());
    metrics.put("best_epoch", result.bestEpoch());
    metrics.put("epochs_run", result.epochs().size());
    ModelArtifacts.TrainedModel model = ModelArtifacts.TrainedModel.of(config, result.weights(),
        data.items(), provenance, metrics);
    ModelArtifacts.save(model, dir);
    return model;
  }

  private static boolean outOfMemory(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof OutOfMemoryError) {
        return true;
      }
    }
    return false;
  }

  /** A markdown table: one row per (arm, training window), a column per input length. */
  static String table(List<Map<String, Object>> cells) {
    List<String> lengths = new ArrayList<>();
    Map<String, Map<String, Map<String, Object>>> rows = new LinkedHashMap<>();
    for (Map<String, Object> c : cells) {
      String length = String.valueOf(c.get("length"));
      if (!lengths.contains(length)) {
        lengths.add(length);
      }
      rows.computeIfAbsent(c.get("arm") + " | " + c.get("train_window"),
          k -> new LinkedHashMap<>()).put(length, c);
    }
    StringBuilder out = new StringBuilder("| arm | training window |");
    for (String l : lengths) {
      out.append(" NDCG@10 at ").append(l).append(" (95% CI) |");
    }
    out.append("\n|---|---:|").append("---:|".repeat(lengths.size())).append('\n');
    for (Map.Entry<String, Map<String, Map<String, Object>>> row : rows.entrySet()) {
      out.append("| ").append(row.getKey()).append(" |");
      for (String l : lengths) {
        Map<String, Object> c = row.getValue().get(l);
        if (c == null) {
          out.append(" – |");
        } else {
          double[] ci = (double[]) c.get("ndcg@10_ci95");
          out.append(String.format(" %.4f (%.4f–%.4f) |", (double) c.get("ndcg@10"), ci[0],
              ci[1]));
        }
      }
      out.append('\n');
    }
    return out.toString();
  }

  static String name(int length) {
    return length == 0 ? "whole" : Integer.toString(length);
  }

  private static String key(Arm arm, int window, int length) {
    return arm.wireName() + "/" + name(window) + "/" + name(length);
  }

  static double[] meanOverSeeds(double[][] bySeed) {
    double[] out = new double[bySeed[0].length];
    for (double[] seed : bySeed) {
      for (int u = 0; u < out.length; u++) {
        out[u] += seed[u] / bySeed.length;
      }
    }
    return out;
  }

  private static double[] subset(double[] xs, boolean[] keep) {
    int n = 0;
    for (boolean k : keep) {
      n += k ? 1 : 0;
    }
    double[] out = new double[n];
    int j = 0;
    for (int i = 0; i < xs.length; i++) {
      if (keep[i]) {
        out[j++] = xs[i];
      }
    }
    return out;
  }

  private static double mean(double[] xs) {
    double s = 0;
    for (double x : xs) {
      s += x;
    }
    return xs.length == 0 ? 0 : s / xs.length;
  }

  private static double round(double x) {
    return Math.round(x * 1e6) / 1e6;
  }
}
