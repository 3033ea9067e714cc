package dev.reranker.bench;

import dev.reranker.attention.FavorProjection;
import dev.reranker.attention.FeatureMap;
import dev.reranker.model.Arm;
import dev.reranker.model.ModelConfig;
import dev.reranker.training.StepThroughput;
import dev.reranker.training.TrainingConfig;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code bench training}: the training step's events/s, in one run, (a) per arm on one thread and
 * on every core, with the default loss (full softmax) over a 3,000-item catalogue — scaling
 * efficiency = events/s on N threads ÷ (N × events/s on one); (b) with sampled softmax on every
 * core over a 3,000- and a 100,000-item catalogue — the catalogue ratio. Each row's achieved
 * GFLOP/s is set against the sgemm rate measured on the same threads in the same run.
 */
public final class TrainingBenchmark {

  /**
   * @param length events per training window (the trainer's default maximum, 200)
   * @param batch windows per step (the trainer's default, 16)
   * @param negatives sampled negatives for the catalogue rows
   * @param smallCatalogue items of the scaling rows and the small catalogue row
   * @param largeCatalogue items of the large catalogue row
   * @param threads the thread count set against one thread (the machine's cores by default)
   */
  public record Options(int length, int batch, int negatives, int smallCatalogue,
      int largeCatalogue, int threads, int warmUpSteps, int steps, long seed) {}

  private final Options options;
  private final PrintStream log;

  public TrainingBenchmark(Options options, PrintStream log) {
    this.options = options;
    this.log = log;
  }

  /** The model the {@code train} command trains by default, over {@code items}. */
  static ModelConfig model(Arm arm, int items, long seed) {
    return ModelConfig.builder(items, arm).dim(64).layers(2).heads(2).ffnDim(256)
        .kernel(FeatureMap.Kernel.SOFTMAX).features(64).rowNorms(FavorProjection.RowNorms.CHI)
        .chunk(256).dropout(0.3).seed(seed).build();
  }

  private StepThroughput.Measurement measure(Arm arm, int items, int negatives, int threads) {
    TrainingConfig training = TrainingConfig.builder().batchSize(options.batch())
        .negatives(negatives).maxLength(options.length()).seed(options.seed()).threads(threads)
        .build();
    StepThroughput.Measurement m = StepThroughput.measure(model(arm, items, options.seed()),
        training, options.length(), options.warmUpSteps(), options.steps());
    log.printf(Locale.ROOT, "%s, %,d items, %s, %d thread(s): %,.0f events/s, %.1f GFLOP/s = "
        + "%.3f of sgemm (%.1f GFLOP/s); gradients %.1f ms, AdamW %.1f ms per step%n",
        arm.wireName(), items, negatives == 0 ? "full softmax" : negatives + " negatives", threads,
        m.eventsPerSecond(), m.achievedGflops(), m.sgemmFraction(), m.sgemmGflops(),
        m.gradientMs(), m.optimizerMs());
    log.flush();
    return m;
  }

  public Map<String, Object> run() {
    int n = options.threads();
    Map<String, Object> scaling = new LinkedHashMap<>();
    Map<String, Object> targets = new LinkedHashMap<>();
    List<Map<String, Object>> rows = new ArrayList<>();
    for (Arm arm : List.of(Arm.PERFORMER, Arm.SOFTMAX)) {
      StepThroughput.Measurement one = measure(arm, options.smallCatalogue(), 0, 1);
      StepThroughput.Measurement many = measure(arm, options.smallCatalogue(), 0, n);
      rows.add(row(arm, one));
      rows.add(row(arm, many));
      double efficiency = many.eventsPerSecond() / (n * one.eventsPerSecond());
      Map<String, Object> s = new LinkedHashMap<>();
      s.put("threads", n);
      s.put("events_per_s_1_thread", Math.round(one.eventsPerSecond()));
      s.put("events_per_s_n_threads", Math.round(many.eventsPerSecond()));
      s.put("scaling_efficiency", round(efficiency));
      s.put("sgemm_roofline_fraction", round(many.sgemmFraction()));
      scaling.put(arm.wireName(), s);
      targets.put(arm.wireName() + " scaling_efficiency >= 0.8", efficiency >= 0.8);
      targets.put(arm.wireName() + " sgemm_roofline_fraction >= 0.5", many.sgemmFraction() >= 0.5);
    }
    StepThroughput.Measurement small = measure(Arm.PERFORMER, options.smallCatalogue(),
        options.negatives(), n);
    StepThroughput.Measurement large = measure(Arm.PERFORMER, options.largeCatalogue(),
        options.negatives(), n);
    rows.add(row(Arm.PERFORMER, small));
    rows.add(row(Arm.PERFORMER, large));
    double catalogueRatio = large.eventsPerSecond() / small.eventsPerSecond();
    Map<String, Object> catalogue = new LinkedHashMap<>();
    catalogue.put("negatives", options.negatives());
    catalogue.put("threads", n);
    catalogue.put("small_items", options.smallCatalogue());
    catalogue.put("large_items", options.largeCatalogue());
    catalogue.put("small_events_per_s", Math.round(small.eventsPerSecond()));
    catalogue.put("large_events_per_s", Math.round(large.eventsPerSecond()));
    catalogue.put("ratio", round(catalogueRatio));
    targets.put("large/small catalogue events_per_s >= 0.7", catalogueRatio >= 0.7);

    Map<String, Object> report = new LinkedHashMap<>();
    report.put("benchmark", "training");
    Map<String, Object> config = new LinkedHashMap<>();
    config.put("model", "d=64, 2 layers, 2 heads, ffn 256, m=64, dropout 0.3 (train's defaults)");
    config.put("window_length", options.length());
    config.put("batch", options.batch());
    config.put("warm_up_steps", options.warmUpSteps());
    config.put("timed_steps", options.steps());
    config.put("seed", options.seed());
    report.put("config", config);
    report.put("machine", Machine.describe());
    report.put("rows", rows);
    report.put("scaling", scaling);
    report.put("catalogue", catalogue);
    report.put("targets", targets);
    report.put("targets_met", targets.values().stream().allMatch(Boolean.TRUE::equals));
    return report;
  }

  private static Map<String, Object> row(Arm arm, StepThroughput.Measurement m) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("arm", arm.wireName());
    r.put("items", m.items());
    r.put("loss", m.negatives() == 0 ? "full softmax" : "sampled softmax");
    r.put("negatives", m.negatives());
    r.put("threads", m.threads());
    r.put("events_per_s", Math.round(m.eventsPerSecond()));
    r.put("flops_per_event", Math.round(m.flopsPerEvent()));
    r.put("achieved_gflops", round(m.achievedGflops()));
    r.put("sgemm_gflops", round(m.sgemmGflops()));
    r.put("sgemm_roofline_fraction", round(m.sgemmFraction()));
    r.put("gradient_ms_per_step", round(m.gradientMs()));
    r.put("optimizer_ms_per_step", round(m.optimizerMs()));
    return r;
  }

  /** The table printed and shown in the README: {@link ReadmeTables}' rendering of the report. */
  public static String table(Map<String, Object> report) {
    return ReadmeTables.training(tools.jackson.databind.json.JsonMapper.builder().build()
        .valueToTree(report));
  }

  static double round(double x) {
    return Math.round(x * 1000) / 1000.0;
  }
}
