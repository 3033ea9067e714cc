package dev.reranker.bench;

import dev.reranker.model.Arm;
import dev.reranker.model.ModelConfig;
import dev.reranker.training.StepMemory;
import dev.reranker.training.TrainingConfig;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code bench training-memory}: a training step's working memory at growing window lengths, per
 * arm ({@link StepMemory}: the bytes the step allocates in its arena, a count fixed by the shapes).
 * The Performer's chunked causal FAVOR+ keeps O(T) per window; the softmax arm's blockwise exact
 * attention computes every (query block × all keys) score block, and since the step's arena frees
 * nothing before the step ends, its memory grows as T². Each arm runs its lengths in increasing
 * order until a step runs out of memory or takes longer than the time budget; the longer lengths of
 * that arm are then reported as not run, with the reason.
 *
 * <p>The step is the one {@code train} runs, on one thread, with {@code train}'s default model
 * ({@link TrainingBenchmark#model}) over a catalogue of {@code items}, full-softmax loss.
 */
public final class TrainingMemoryBenchmark {

  /**
   * @param lengths window lengths, increasing
   * @param batch windows per step
   * @param items the catalogue
   * @param maxStepSeconds a step longer than this ends the arm's lengths
   * @param warmUpSteps steps before the measured one
   */
  public record Options(List<Integer> lengths, int batch, int items, double maxStepSeconds,
      int warmUpSteps, long seed) {}

  /** The per-position growth (longest measured ÷ reference length) the Performer must stay under. */
  static final double LINEAR_LIMIT = 1.25;
  /** The length per-position bytes are compared against: past one FAVOR+ chunk (256). */
  static final int REFERENCE_LENGTH = 1024;

  private final Options options;
  private final PrintStream log;

  public TrainingMemoryBenchmark(Options options, PrintStream log) {
    this.options = options;
    this.log = log;
  }

  public Map<String, Object> run() {
    List<Map<String, Object>> rows = new ArrayList<>();
    Map<String, Object> growth = new LinkedHashMap<>();
    Map<String, Object> limits = new LinkedHashMap<>();
    for (Arm arm : List.of(Arm.PERFORMER, Arm.SOFTMAX)) {
      String stopped = null;
      Map<Integer, Double> perPosition = new LinkedHashMap<>();
      for (int length : options.lengths()) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("arm", arm.wireName());
        r.put("length", length);
        r.put("batch", options.batch());
        if (stopped != null) {
          r.put("status", "not run");
          r.put("reason", stopped);
          rows.add(r);
          continue;
        }
        try {
          StepMemory.Measurement m = StepMemory.measure(model(arm), training(), length,
              options.warmUpSteps());
          r.put("status", "ok");
          r.put("step_bytes", m.stepBytes());
          r.put("bytes_per_position", Math.round(m.bytesPerPosition()));
          r.put("parameter_state_bytes", m.parameterStateBytes());
          r.put("step_seconds", round(m.stepSeconds()));
          perPosition.put(length, m.bytesPerPosition());
          log.printf(Locale.ROOT, "%s, window %,d × %d: step arena %,.1f MiB (%,.0f bytes a "
              + "position), %.2f s a step%n", arm.wireName(), length, options.batch(),
              m.stepBytes() / (1024.0 * 1024), m.bytesPerPosition(), m.stepSeconds());
          if (m.stepSeconds() > options.maxStepSeconds()) {
            stopped = String.format(Locale.ROOT, "a step at %,d took %.0f s, over the %.0f s "
                + "budget", length, m.stepSeconds(), options.maxStepSeconds());
          }
        } catch (OutOfMemoryError e) {
          r.put("status", "out of memory");
          r.put("reason", String.valueOf(e.getMessage()));
          stopped = String.format(Locale.ROOT, "ran out of memory at %,d", length);
          log.printf(Locale.ROOT, "%s, window %,d × %d: out of memory (%s)%n", arm.wireName(),
              length, options.batch(), e.getMessage());
        }
        log.flush();
        rows.add(r);
      }
      Map<String, Object> g = new LinkedHashMap<>();
      int longest = perPosition.keySet().stream().mapToInt(Integer::intValue).max().orElse(0);
      g.put("longest_length_run", longest);
      if (perPosition.containsKey(REFERENCE_LENGTH) && longest > REFERENCE_LENGTH) {
        double ratio = perPosition.get(longest) / perPosition.get(REFERENCE_LENGTH);
        g.put("reference_length", REFERENCE_LENGTH);
        g.put("bytes_per_position_ratio", round(ratio));
        g.put("length_ratio", round((double) longest / REFERENCE_LENGTH));
        if (arm == Arm.PERFORMER) {
          limits.put("performer bytes_per_position longest/" + REFERENCE_LENGTH + " <= "
              + LINEAR_LIMIT, ratio <= LINEAR_LIMIT);
        }
      }
      g.put("stopped", stopped);
      growth.put(arm.wireName(), g);
    }
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("benchmark", "training-memory");
    Map<String, Object> config = new LinkedHashMap<>();
    config.put("model", "d=64, 2 layers, 2 heads, ffn 256, m=64, chunk 256, dropout 0.3 "
        + "(train's defaults)");
    config.put("items", options.items());
    config.put("loss", "full softmax");
    config.put("batch", options.batch());
    config.put("threads", 1);
    config.put("lengths", options.lengths());
    config.put("max_step_seconds", options.maxStepSeconds());
    config.put("warm_up_steps", options.warmUpSteps());
    config.put("seed", options.seed());
    report.put("config", config);
    report.put("machine", Machine.describe());
    report.put("rows", rows);
    report.put("growth", growth);
    report.put("targets", limits);
    report.put("targets_met", limits.values().stream().allMatch(Boolean.TRUE::equals));
    return report;
  }

  private ModelConfig model(Arm arm) {
    return TrainingBenchmark.model(arm, options.items(), options.seed());
  }

  private TrainingConfig training() {
    return TrainingConfig.builder().batchSize(options.batch()).negatives(0)
        .seed(options.seed()).threads(1).build();
  }

  private static double round(double x) {
    return Math.round(x * 1000) / 1000.0;
  }

  /** The table printed and shown in the README: {@link ReadmeTables}' rendering of the report. */
  public static String table(Map<String, Object> report) {
    return ReadmeTables.trainingMemory(tools.jackson.databind.json.JsonMapper.builder().build()
        .valueToTree(report));
  }
}
