package dev.reranker.cli;

import dev.reranker.data.DataSource;
import dev.reranker.data.InteractionReaders;
import picocli.CommandLine.Option;

/** {@code --data}, {@code --format}, {@code --k-core}: shared by train and evaluate. */
final class DataOptions {

  @Option(names = "--data", required = true,
      description = "A data file, or synthetic:small, synthetic:demo, synthetic:long-range or "
          + "synthetic:recurrence (optionally :seed).")
  String data;

  @Option(names = "--format", defaultValue = "movielens",
      description = "File format: movielens, sasrec, jsonl (default: ${DEFAULT-VALUE}).")
  String format;

  @Option(names = "--k-core", description = "Drop users and items with fewer events, repeatedly "
      + "(default: 5 for files, as SASRec; 0 for synthetic data).")
  Integer kCore;

  DataSource source() {
    boolean synthetic = data.startsWith("synthetic:");
    int k = kCore != null ? kCore : synthetic ? 0 : 5;
    return new DataSource(data, InteractionReaders.Format.parse(format), k);
  }
}
