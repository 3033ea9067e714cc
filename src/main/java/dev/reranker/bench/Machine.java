package dev.reranker.bench;

import dev.reranker.attention.Nd4jThreads;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.factory.Nd4j;

/** What a benchmark ran on, recorded in its JSON next to the numbers. */
final class Machine {
  private Machine() {}

  public static Map<String, Object> describe() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cores", Runtime.getRuntime().availableProcessors());
    m.put("max_heap_bytes", Runtime.getRuntime().maxMemory());
    m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    m.put("nd4j_backend", Nd4j.getBackend().getClass().getSimpleName());
    m.put("nd4j_threads_per_op", Nd4jThreads.current());
    m.put("date", java.time.Instant.now().toString());
    return m;
  }
}
