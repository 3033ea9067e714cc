package dev.reranker.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The README's benchmark tables, rendered from the benchmarks' own JSON so that they cannot
 * drift from a measurement: each {@code <!-- bench:NAME -->} … {@code <!-- /bench:NAME -->}
 * section of the README is the rendering of {@code NAME.json} in the benchmarks directory
 * ({@code docs/benchmarks}), with the date, commit and machine the JSON records. {@code bench
 * readme} rewrites the sections; {@code ReadmeTablesTest} fails when one differs.
 */
public final class ReadmeTables {

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final Pattern SECTION = Pattern.compile(
      "(?s)<!-- bench:([a-z-]+) -->\\n.*?<!-- /bench:\\1 -->");

  private ReadmeTables() {}

  /** The README with every benchmark section replaced by its JSON's rendering. */
  public static String update(String readme, Path dir) throws IOException {
    Matcher m = SECTION.matcher(readme);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String name = m.group(1);
      Path json = dir.resolve(name + ".json");
      if (!Files.isRegularFile(json)) {
        throw new IOException("README section bench:" + name + " has no " + json);
      }
      String body = render(JSON.readTree(Files.readString(json)), json);
      m.appendReplacement(out, Matcher.quoteReplacement("<!-- bench:" + name + " -->\n" + body
          + "<!-- /bench:" + name + " -->"));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** The sections a README has. */
  public static List<String> sections(String readme) {
    List<String> names = new ArrayList<>();
    Matcher m = SECTION.matcher(readme);
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }

  /** One benchmark's markdown: its provenance line, then its table. */
  public static String render(JsonNode doc, Path source) {
    String table = switch (doc.get("benchmark").asString()) {
      case "attention" -> attention(doc);
      case "ingest" -> ingest(doc);
      case "rerank" -> rerank(doc);
      case "training" -> training(doc);
      case "training-memory" -> trainingMemory(doc);
      case "lengths" -> lengths(doc);
      default -> throw new IllegalArgumentException("no README table for benchmark "
          + doc.get("benchmark"));
    };
    return provenance(doc, source) + "\n\n" + table;
  }

  static String provenance(JsonNode doc, Path source) {
    JsonNode m = doc.get("machine");
    String commit = text(m, "git_commit");
    String shortCommit = commit.length() >= 12 ? commit.substring(0, 12)
        + (commit.endsWith("-dirty") ? "-dirty" : "") : commit;
    return "Measured " + text(m, "date").substring(0, 10) + " at commit `" + shortCommit
        + "` on " + text(m, "cpu_model") + ", " + m.get("cores").asInt() + " cores, "
        + text(m, "java") + (m.has("float_kernels") ? ", " + text(m, "float_kernels")
            + " float kernels" : "") + " (`" + source.toString().replace('\\', '/') + "`).";
  }

  private static String attention(JsonNode doc) {
    StringBuilder t = new StringBuilder("| length | favor enc ms | softmax enc ms | enc × "
        + "| favor step µs | softmax step µs | step × | favor B | softmax B | state × |\n"
        + "|-------:|-------------:|---------------:|------:|--------------:|----------------:|"
        + "-------:|--------:|----------:|--------:|\n");
    for (JsonNode r : doc.get("results")) {
      t.append("| ").append(r.get("length").asInt())
          .append(" | ").append(fixed(r, "favor_encode_ms", 1))
          .append(" | ").append(fixed(r, "softmax_encode_ms", 1))
          .append(" | ").append(fixed(r, "encode_speedup", 1))
          .append(" | ").append(fixed(r, "favor_step_us", 1))
          .append(" | ").append(fixed(r, "softmax_step_us", 1))
          .append(" | ").append(fixed(r, "step_speedup", 1))
          .append(" | ").append(r.get("favor_state_bytes").asLong())
          .append(" | ").append(r.get("softmax_state_bytes").asLong())
          .append(" | ").append(fixed(r, "state_ratio", 1)).append(" |\n");
    }
    JsonNode roof = doc.get("roofline");
    if (roof != null) {
      t.append("\nRoofline, same run (one thread): sgemm ").append(fixed(roof, "sgemm_gflops", 1))
          .append(" GFLOP/s at the encode's shapes, copy ").append(fixed(roof, "copy_gb_per_s", 1))
          .append(" GB/s.\n\n");
      boolean plain = doc.get("results").get(0).has("favor_plain_encode_ms");
      boolean softmaxPlain = doc.get("results").get(0).has("softmax_plain_encode_ms");
      t.append("| length | FAVOR+ GFLOP/s | FAVOR+ ÷ roofline (target ≥ 0.25) "
          + (plain ? "| FAVOR+ on plain arrays ms | its ÷ roofline " : "")
          + "| softmax ÷ roofline "
          + (softmaxPlain ? "| softmax on plain arrays ms | its ÷ roofline " : "")
          + "|\n|---:|---:|---:|" + (plain ? "---:|---:|" : "") + "---:|"
          + (softmaxPlain ? "---:|---:|" : "") + "\n");
      for (JsonNode r : doc.get("results")) {
        double f = r.get("favor_encode_roofline_fraction").asDouble();
        t.append("| ").append(r.get("length").asInt())
            .append(" | ").append(fixed(r, "favor_encode_gflops", 1))
            .append(" | ").append(fixed(r, "favor_encode_roofline_fraction", 3))
            .append(f >= 0.25 ? " (met)" : " (not met)");
        if (plain) {
          double p = r.get("favor_plain_encode_roofline_fraction").asDouble();
          t.append(" | ").append(fixed(r, "favor_plain_encode_ms", 2))
              .append(" | ").append(fixed(r, "favor_plain_encode_roofline_fraction", 3))
              .append(p >= 0.25 ? " (met)" : " (not met)");
        }
        t.append(" | ").append(fixed(r, "softmax_encode_roofline_fraction", 3));
        if (softmaxPlain) {
          t.append(" | ").append(fixed(r, "softmax_plain_encode_ms", 2))
              .append(" | ").append(fixed(r, "softmax_plain_encode_roofline_fraction", 3));
        }
        t.append(" |\n");
      }
    }
    return t.toString();
  }

  private static String ingest(JsonNode doc) {
    JsonNode stages = doc.get("seconds_by_stage");
    List<String> names = new ArrayList<>();
    List<String> seconds = new ArrayList<>();
    stages.properties().forEach(e -> {
      names.add(e.getKey().replace('_', ' '));
      seconds.add(String.format(Locale.ROOT, "%.2f", e.getValue().asDouble()));
    });
    JsonNode fold = doc.get("fold_cost");
    if (doc.has("targets")) {
      return ingestWithTargets(doc, names, seconds, fold);
    }
    return "| measure | value |\n|---|---:|\n"
        + "| bare consumer, events/s | " + grouped(doc.get("bare_consumer_events_per_s")) + " |\n"
        + "| ingest (validate, dedup, store, fold), events/s | "
        + grouped(doc.get("ingest_events_per_s")) + " |\n"
        + "| ingest / bare consumer | " + fixed(doc, "ratio", 3) + " (target ≥ 0.5: "
        + (doc.get("target_met").asBoolean() ? "met" : "not met") + ") |\n"
        + "| seconds in " + String.join(" / ", names) + " | " + String.join(" / ", seconds)
        + " |\n"
        + "| changelog bytes per event (broker logs) | "
        + fixed(doc.get("changelog"), "broker_log_bytes_per_event", 0) + " |\n"
        + foldRows(fold, "");
  }

  /** Fold cost and state bytes by position: 101 vs 100,001, and 1,000,001 where measured. */
  private static String foldRows(JsonNode fold, String extraCell) {
    boolean lifetime = fold.has("fold_us_at_position_1000001");
    String positions = lifetime ? "101 vs 100,001 vs 1,000,001" : "101 vs 100,001";
    return "| fold at position " + positions + " (µs) | " + fixed(fold, "fold_us_at_position_101", 1)
        + " vs " + fixed(fold, "fold_us_at_position_100001", 1)
        + (lifetime ? " vs " + fixed(fold, "fold_us_at_position_1000001", 1) : "") + " |"
        + extraCell + "\n"
        + "| state bytes at " + positions + " | " + grouped(fold.get("state_bytes_at_101"))
        + " vs " + grouped(fold.get("state_bytes_at_100001"))
        + (lifetime ? " vs " + grouped(fold.get("state_bytes_at_1000001")) : "") + " |"
        + extraCell + "\n";
  }

  private static String ingestWithTargets(JsonNode doc, List<String> names,
      List<String> seconds, JsonNode fold) {
    JsonNode t = doc.get("targets");
    JsonNode roof = doc.get("roofline");
    return "| measure | value | target |\n|---|---:|---|\n"
        + "| bare consumer, events/s | " + grouped(doc.get("bare_consumer_events_per_s"))
        + " | |\n"
        + "| no-op Kafka Streams processor (exactly_once_v2), events/s | "
        + grouped(doc.get("noop_processor_events_per_s")) + " | |\n"
        + "| ingest without the fold, events/s | " + grouped(doc.get("no_fold_events_per_s"))
        + " | |\n"
        + "| ingest (validate, dedup, store, fold), events/s | "
        + grouped(doc.get("ingest_events_per_s")) + " | |\n"
        + "| ingest ÷ no-fold | " + fixed(doc, "ingest_vs_no_fold", 3) + " | ≥ 0.8: "
        + met(t, "ingest_vs_no_fold >= 0.8") + " |\n"
        + "| no-fold ÷ bare consumer | " + fixed(doc, "no_fold_vs_bare_consumer", 3)
        + " | ≥ 0.15: " + met(t, "no_fold_vs_bare_consumer >= 0.15") + " |\n"
        + "| roofline (one thread): sgemm GFLOP/s, copy GB/s | " + fixed(roof, "sgemm_gflops", 1)
        + ", " + fixed(roof, "copy_gb_per_s", 1) + " | |\n"
        + "| fold floor per event, µs (" + doc.get("fold_bound").asString() + "-bound) | "
        + fixed(doc, "fold_floor_us", 2) + " | |\n"
        + "| single fold, µs (÷ floor) | " + fixed(doc, "single_fold_us", 1) + " ("
        + fixed(doc, "single_fold_roofline_fraction", 3) + ") | ≥ 0.25: "
        + met(t, "single_fold_roofline_fraction >= 0.25") + " |\n"
        + "| batched fold, 1 event × " + grouped(doc.get("batched_fold_users")) + " users, µs "
        + "(÷ floor) | " + fixed(doc, "batched_fold_us", 1) + " ("
        + fixed(doc, "batched_fold_roofline_fraction", 3) + ") | ≥ 0.5: "
        + met(t, "batched_fold_roofline_fraction >= 0.5") + "; ≤ single: "
        + met(t, "batched_fold_us <= single_fold_us") + " |\n"
        + (doc.has("single_fold_cold_states_us")
            ? "| the batch's states folded on one thread, µs | "
                + fixed(doc, "single_fold_cold_states_us", 1) + " | batched ≤ it: "
                + met(t, "batched_fold_us <= single_fold_cold_states_us") + " |\n"
            : "")
        + "| freshness, produce to folded state, p50 / p99 ms | "
        + fixed(doc, "freshness_ms_p50", 1) + " / " + fixed(doc, "freshness_ms_p99", 1)
        + " | p99 ≤ 100: " + met(t, "freshness_ms_p99 <= 100") + " |\n"
        + "| seconds in " + String.join(" / ", names) + " | " + String.join(" / ", seconds)
        + " | |\n"
        + "| changelog bytes per event (broker logs) | "
        + fixed(doc.get("changelog"), "broker_log_bytes_per_event", 0) + " | |\n"
        + foldRows(fold, " |");
  }

  private static String met(JsonNode targets, String name) {
    JsonNode v = targets.get(name);
    return v != null && v.asBoolean() ? "met" : "not met";
  }

  private static String rerank(JsonNode doc) {
    StringBuilder t = new StringBuilder("| arm | HTTP req/s | p50 ms | p99 ms | CPU µs/req "
        + "(phase / drained) | in-process req/s | in-process CPU µs/req (phase / drained) "
        + "| HTTP / in-process | bound |\n"
        + "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    doc.get("by_arm").properties().forEach(e -> {
      JsonNode a = e.getValue();
      t.append("| ").append(e.getKey())
          .append(" | ").append(grouped(a.get("rerank_rps")))
          .append(" | ").append(fixed(a, "p50_ms", 2))
          .append(" | ").append(fixed(a, "p99_ms", 2))
          .append(" | ").append(cpu(a, "http_cpu_us_per_request"))
          .append(" | ").append(grouped(a.get("inprocess_rps")))
          .append(" | ").append(cpu(a, "inprocess_cpu_us_per_request"))
          .append(" | ").append(fixed(a, "http_over_inprocess", 2))
          .append(" | ").append(fixed(a, "http_ratio_bound", 2)).append(" |\n");
    });
    JsonNode p = doc.get("transport_probe");
    t.append("| transport only (`").append(p.get("path").asString()).append("`) | ")
        .append(grouped(p.get("rps"))).append(" | ").append(fixed(p, "p50_ms", 2))
        .append(" | ").append(fixed(p, "p99_ms", 2)).append(" | ")
        .append(fixed(p, "cpu_us_per_request", 0)).append(" | | | | |\n");
    if (doc.get("by_arm").properties().iterator().next().getValue().has("open_loop")) {
      t.append("\nOpen loop (constant arrival rate, latency from each request's due time, "
          + "HdrHistogram), p50 / p99 / p99.9 ms at a share of the arm's saturation rate:\n\n"
          + "| arm | saturation req/s | bound req/s | ÷ bound (target ≥ 0.8) | 25% | 50% "
          + "(target p99 ≤ 5) | 75% | in-process floor µs | floor ÷ in-process CPU "
          + "(target ≥ 0.33) |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
      doc.get("by_arm").properties().forEach(e -> {
        JsonNode a = e.getValue();
        JsonNode targets = a.get("targets");
        t.append("| ").append(e.getKey())
            .append(" | ").append(grouped(a.get("saturation_rps")))
            .append(" | ").append(grouped(a.get("bound")))
            .append(" | ").append(fixed(a, "saturation_vs_bound", 2)).append(" (")
            .append(met(targets, "saturation_rps >= 0.8 x bound")).append(")");
        for (String share : List.of("25pct", "50pct", "75pct")) {
          JsonNode o = a.get("open_loop").get(share);
          t.append(" | ").append(fixed(o, "p50_ms", 1)).append(" / ").append(fixed(o, "p99_ms", 1))
              .append(" / ").append(fixed(o, "p999_ms", 1));
          if (share.equals("50pct")) {
            t.append(" (").append(met(targets, "p99_ms_at_50pct <= 5")).append(")");
          }
        }
        t.append(" | ").append(fixed(a, "inprocess_floor_us", 1))
            .append(" | ").append(fixed(a, "inprocess_floor_fraction", 3)).append(" (")
            .append(met(targets, "inprocess cpu <= 3 x floor")).append(") |\n");
      });
    }
    JsonNode f = doc.get("freshness");
    if (f != null && f.has("p99_ms")) {
      JsonNode load = f.get("rerank_load");
      t.append("\nFreshness over HTTP (produce to the first `POST /v1/rerank` answer whose "
          + "`statePosition` counts the event), ").append(f.get("answered").asLong())
          .append(" of ").append(f.get("probes").asLong()).append(" probes, under ")
          .append(load == null ? "rerank load" : grouped(load.get("achieved_rps")) + " rerank req/s answered")
          .append(" and ").append(grouped(f.get("ingest_events_produced"))).append(" events "
              + "ingested meanwhile: p50 ").append(fixed(f, "p50_ms", 1)).append(" ms, p99 ")
          .append(fixed(f, "p99_ms", 1)).append(" ms, max ").append(fixed(f, "max_ms", 1))
          .append(" ms (target p99 ≤ 100: ")
          .append(f.get("p99_ms").asDouble() <= 100 ? "met" : "not met").append(").\n");
    }
    return t.toString();
  }

  /** {@code bench training}'s table and targets (printed by the command, shown in the README). */
  static String training(JsonNode doc) {
    StringBuilder t = new StringBuilder("| arm | items | loss | threads | events/s | GFLOP/s "
        + "| sgemm GFLOP/s (same threads) | ÷ sgemm | gradients ms/step | AdamW ms/step |\n"
        + "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (JsonNode r : doc.get("rows")) {
      t.append("| ").append(r.get("arm").asString())
          .append(" | ").append(grouped(r.get("items")))
          .append(" | ").append(r.get("negatives").asInt() == 0 ? "full softmax"
              : r.get("negatives").asInt() + " sampled")
          .append(" | ").append(r.get("threads").asInt())
          .append(" | ").append(grouped(r.get("events_per_s")))
          .append(" | ").append(fixed(r, "achieved_gflops", 1))
          .append(" | ").append(fixed(r, "sgemm_gflops", 1))
          .append(" | ").append(fixed(r, "sgemm_roofline_fraction", 3))
          .append(" | ").append(fixed(r, "gradient_ms_per_step", 1))
          .append(" | ").append(fixed(r, "optimizer_ms_per_step", 1)).append(" |\n");
    }
    t.append("\n| target (ratios within this run) | measured | |\n|---|---:|---|\n");
    JsonNode targets = doc.get("targets");
    doc.get("scaling").properties().forEach(e -> {
      JsonNode a = e.getValue();
      t.append("| ").append(e.getKey()).append(": events/s on ").append(a.get("threads").asInt())
          .append(" threads ÷ (").append(a.get("threads").asInt())
          .append(" × 1 thread) ≥ 0.8 | ").append(fixed(a, "scaling_efficiency", 2))
          .append(" | ").append(met(targets, e.getKey() + " scaling_efficiency >= 0.8"))
          .append(" |\n| ").append(e.getKey()).append(": step ≥ 0.5 of the sgemm rate | ")
          .append(fixed(a, "sgemm_roofline_fraction", 3)).append(" | ")
          .append(met(targets, e.getKey() + " sgemm_roofline_fraction >= 0.5")).append(" |\n");
    });
    JsonNode c = doc.get("catalogue");
    t.append("| sampled softmax (").append(c.get("negatives").asInt()).append("): events/s at ")
        .append(grouped(c.get("large_items"))).append(" items ÷ at ")
        .append(grouped(c.get("small_items"))).append(" ≥ 0.7 | ").append(fixed(c, "ratio", 2))
        .append(" | ").append(met(targets, "large/small catalogue events_per_s >= 0.7"))
        .append(" |\n");
    return t.toString();
  }

  static String trainingMemory(JsonNode doc) {
    StringBuilder t = new StringBuilder("| arm | window | windows a step | step working memory "
        + "(MiB) | bytes a position | step s | |\n|---|---:|---:|---:|---:|---:|---|\n");
    long parameters = 0;
    for (JsonNode r : doc.get("rows")) {
      boolean ok = "ok".equals(r.get("status").asString());
      t.append("| ").append(r.get("arm").asString())
          .append(" | ").append(grouped(r.get("length")))
          .append(" | ").append(r.get("batch").asInt())
          .append(" | ").append(ok ? String.format(Locale.ROOT, "%,.1f",
              r.get("step_bytes").asDouble() / (1024 * 1024)) : "")
          .append(" | ").append(ok ? grouped(r.get("bytes_per_position")) : "")
          .append(" | ").append(ok ? fixed(r, "step_seconds", 2) : "")
          .append(" | ").append(ok ? "" : r.get("status").asString() + ": "
              + r.get("reason").asString()).append(" |\n");
      if (ok) {
        parameters = r.get("parameter_state_bytes").asLong();
      }
    }
    t.append(String.format(Locale.ROOT, "%nBeside the step: weights, gradients and AdamW's "
        + "moments, %,.1f MiB at every length.%n", parameters / (1024.0 * 1024)));
    t.append("\n| arm | bytes a position, longest run ÷ at 1,024 | windows ÷ | |\n"
        + "|---|---:|---:|---|\n");
    JsonNode targets = doc.get("targets");
    doc.get("growth").properties().forEach(e -> {
      JsonNode g = e.getValue();
      if (g.has("bytes_per_position_ratio")) {
        String target = "performer".equals(e.getKey())
            ? met(targets, "performer bytes_per_position longest/1024 <= 1.25") + " (linear: ≤ 1.25)"
            : "";
        t.append("| ").append(e.getKey()).append(" | ").append(fixed(g, "bytes_per_position_ratio",
            2)).append(" | ").append(fixed(g, "length_ratio", 1)).append(" | ").append(target)
            .append(" |\n");
      }
    });
    return t.toString();
  }

  /**
   * {@code bench lengths}: NDCG@10 per (arm, training window) and events read, mean over seeds with
   * the 95% bootstrap interval over users and each seed's value, the users longer than 200, then
   * the comparison fixed in advance.
   */
  static String lengths(JsonNode doc) {
    List<String> lengths = new ArrayList<>();
    Map<String, Map<String, JsonNode>> rows = new java.util.LinkedHashMap<>();
    for (JsonNode c : doc.get("cells")) {
      String length = c.get("length").asString();
      if (!lengths.contains(length)) {
        lengths.add(length);
      }
      rows.computeIfAbsent(c.get("arm").asString() + " | " + c.get("train_window").asString(),
          k -> new java.util.LinkedHashMap<>()).put(length, c);
    }
    StringBuilder t = new StringBuilder(String.format(Locale.ROOT, "%d test users (%d with more "
        + "than 200 input events; the longest %,d), seeds %s. NDCG@10, mean over seeds (95%% "
        + "bootstrap interval over users; per seed):%n%n", doc.get("test_users").asInt(),
        doc.get("test_users_longer_than_200").asInt(), doc.get("longest_history").asInt(),
        doc.get("seeds").toString()));
    // reports with the long users' HR@10 (bench lengths since the planted task) get a column per
    // length for them; earlier ones one column, the long users' NDCG@10 at the last length
    boolean longUsersHr = doc.get("cells").size() > 0
        && doc.get("cells").get(0).has("hr@10_long_users");
    t.append("| arm | trained on |");
    for (String l : lengths) {
      t.append(" reading ").append(l).append(" |");
    }
    if (longUsersHr) {
      for (String l : lengths) {
        t.append(" long users, reading ").append(l).append(": HR@10 / NDCG@10 |");
      }
      t.append("\n|---|---:|").append("---|".repeat(lengths.size()))
          .append("---:|".repeat(lengths.size())).append('\n');
    } else {
      t.append(" whole, long users |\n|---|---:|").append("---|".repeat(lengths.size()))
          .append("---:|\n");
    }
    for (Map.Entry<String, Map<String, JsonNode>> row : rows.entrySet()) {
      t.append("| ").append(row.getKey()).append(" |");
      JsonNode last = null;
      for (String l : lengths) {
        JsonNode c = row.getValue().get(l);
        if (c == null) {
          t.append(" – |");
          continue;
        }
        last = c;
        JsonNode ci = c.get("ndcg@10_ci95");
        List<String> seeds = new ArrayList<>();
        c.get("ndcg@10_per_seed").forEach(v -> seeds.add(String.format(Locale.ROOT, "%.4f",
            v.asDouble())));
        t.append(String.format(Locale.ROOT, " %.4f (%.4f–%.4f; %s) |", c.get("ndcg@10")
            .asDouble(), ci.get(0).asDouble(), ci.get(1).asDouble(), String.join(", ", seeds)));
      }
      if (longUsersHr) {
        for (String l : lengths) {
          JsonNode c = row.getValue().get(l);
          t.append(c == null ? " – |" : String.format(Locale.ROOT, " %.4f / %.4f |",
              c.get("hr@10_long_users").asDouble(), c.get("ndcg@10_long_users").asDouble()));
        }
        t.append('\n');
      } else {
        t.append(last == null ? " – |" : String.format(Locale.ROOT, " %.4f |",
            last.get("ndcg@10_long_users").asDouble())).append('\n');
      }
    }
    for (JsonNode s : doc.get("skipped")) {
      t.append(String.format(Locale.ROOT, "%n%s at window %s: not trained (%s).%n",
          s.get("arm").asString(), s.get("train_window").asString(), s.get("reason").asString()));
    }
    JsonNode c = doc.get("comparison");
    if (c.get("available").asBoolean()) {
      t.append(String.format(Locale.ROOT, "%nFixed in advance: the Performer trained on %s and "
          + "reading %s minus softmax trained on and reading 200, paired per user: NDCG@10 "
          + "%+.4f (%+.4f … %+.4f) on all test users", c.get("performer").get("train_window")
          .asString(), c.get("performer").get("length").asString(),
          c.get("ndcg@10_difference").asDouble(), c.get("ndcg@10_difference_ci95").get(0)
          .asDouble(), c.get("ndcg@10_difference_ci95").get(1).asDouble()));
      if (c.has("ndcg@10_difference_per_seed")) {
        List<String> seeds = new ArrayList<>();
        c.get("ndcg@10_difference_per_seed").forEach(v -> seeds.add(String.format(Locale.ROOT,
            "%+.4f", v.asDouble())));
        t.append(" (per seed ").append(String.join(", ", seeds)).append(')');
      }
      if (c.has("long_users")) {
        t.append(String.format(Locale.ROOT, "; %+.4f (%+.4f … %+.4f) on the %d users with "
            + "more than 200 events", c.get("ndcg@10_difference_long_users").asDouble(),
            c.get("ndcg@10_difference_long_users_ci95").get(0).asDouble(),
            c.get("ndcg@10_difference_long_users_ci95").get(1).asDouble(),
            c.get("long_users").asInt()));
      }
      t.append(".\n");
    } else {
      t.append("\nComparison not available: ").append(c.get("why").asString()).append(".\n");
    }
    return t.toString();
  }

  private static String text(JsonNode node, String field) {
    JsonNode v = node.get(field);
    return v == null || v.isNull() ? "unknown" : v.asString();
  }

  private static String fixed(JsonNode node, String field, int decimals) {
    return String.format(Locale.ROOT, "%." + decimals + "f", node.get(field).asDouble());
  }

  /**
   * CPU per request over the phase, and with the joins of its exposures that ran after it ({@code
   * <field>_drained}, written since 2026-12-08) when the report has it.
   */
  private static String cpu(JsonNode arm, String field) {
    String phase = fixed(arm, field, 0);
    return arm.has(field + "_drained") ? phase + " / " + fixed(arm, field + "_drained", 0) : phase;
  }

  private static String grouped(JsonNode v) {
    return String.format(Locale.ROOT, "%,d", Math.round(v.asDouble()));
  }
}
