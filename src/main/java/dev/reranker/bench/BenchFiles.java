package dev.reranker.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** A benchmark's working directory: broker logs, state stores and models, gone after the run. */
final class BenchFiles {
  private BenchFiles() {}

  /**
   * Deletes a directory and everything under it; nothing when it is absent. A {@code bench rerank}
   * leaves 3-5 GB of broker logs and state stores: a dozen runs filled this machine's disk before
   * the benchmarks deleted their own.
   */
  static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path f : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(f);
      }
    }
  }
}
