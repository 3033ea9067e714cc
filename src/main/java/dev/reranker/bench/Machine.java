package dev.reranker.bench;

import dev.reranker.attention.Nd4jThreads;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.factory.Nd4j;

/** What a benchmark ran on, recorded in its JSON next to the numbers. */
public final class Machine {
  private Machine() {}

  public static Map<String, Object> describe() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cpu_model", cpuModel());
    m.put("cores", Runtime.getRuntime().availableProcessors());
    m.put("max_heap_bytes", Runtime.getRuntime().maxMemory());
    m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    m.put("nd4j_backend", Nd4j.getBackend().getClass().getSimpleName());
    m.put("nd4j_threads_per_op", Nd4jThreads.current());
    // the one-event fold's arithmetic: the Vector API's lanes or the scalar reference, and why
    m.put("float_kernels", dev.reranker.attention.FloatKernels.preferred().name());
    m.put("float_kernels_reason", dev.reranker.attention.FloatKernels.choiceReason());
    m.put("date", java.time.Instant.now().toString());
    m.put("git_commit", dev.reranker.training.Provenance.gitCommit());
    return m;
  }

  /** The CPU's model name from /proc/cpuinfo ("unknown" where there is none). */
  static String cpuModel() {
    try {
      for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of(
          "/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).strip();
        }
      }
    } catch (java.io.IOException | RuntimeException e) {
      // not Linux, or not readable
    }
    return "unknown";
  }
}
