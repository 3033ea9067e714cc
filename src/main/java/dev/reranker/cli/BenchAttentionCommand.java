package dev.reranker.cli;

import dev.reranker.attention.FeatureMap;
import dev.reranker.attention.Nd4jThreads;
import dev.reranker.bench.AttentionBenchmark;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/** {@code bench attention}: FAVOR+ against exact softmax attention over history lengths. */
@Command(name = "attention", mixinStandardHelpOptions = true,
    description = "Batched encode cost, one-event step cost and state size of FAVOR+ and exact "
        + "softmax attention at growing history lengths.")
final class BenchAttentionCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--lengths", split = ",", defaultValue = "256,1024,4096,16384",
      description = "History lengths (default: ${DEFAULT-VALUE}).")
  List<Integer> lengths;

  @Option(names = "--dim", defaultValue = "64",
      description = "Model dimension d, split over the heads (default: ${DEFAULT-VALUE}).")
  int dim;

  @Option(names = "--heads", defaultValue = "2", description = "Heads (default: ${DEFAULT-VALUE}).")
  int heads;

  @Option(names = {"--features", "-m"}, defaultValue = "64",
      description = "FAVOR+ random features m (default: ${DEFAULT-VALUE}).")
  int features;

  @Option(names = "--kernel", defaultValue = "softmax",
      description = "FAVOR+ kernel: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
  FeatureMap.Kernel kernel;

  @Option(names = "--chunk", defaultValue = "128",
      description = "Chunk length of the causal FAVOR+ encode (default: ${DEFAULT-VALUE}).")
  int chunk;

  @Option(names = "--block", defaultValue = "256",
      description = "Query rows per block of the softmax encode (default: ${DEFAULT-VALUE}).")
  int block;

  @Option(names = "--repeats", defaultValue = "5",
      description = "Timed encodes per length; the median is reported (default: ${DEFAULT-VALUE}).")
  int repeats;

  @Option(names = "--seed", defaultValue = "42", description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--out", description = "Where to write the JSON report.")
  Path out;

  @Override
  public Integer call() throws Exception {
    PrintWriter stdout = spec.commandLine().getOut();
    int threads = Nd4jThreads.applyConfigured();
    AttentionBenchmark.Options options = new AttentionBenchmark.Options(lengths, dim, heads,
        features, kernel, chunk, block, repeats, seed);
    stdout.printf("bench attention: lengths %s, d=%d, %d heads, m=%d, %s kernel, chunk %d, "
        + "%d ND4J thread(s) per op%n", lengths, dim, heads, features, kernel.name().toLowerCase(),
        chunk, threads);
    stdout.flush();
    AttentionBenchmark benchmark = new AttentionBenchmark(options, System.out);
    List<AttentionBenchmark.Row> rows = benchmark.run();
    stdout.println();
    stdout.print(AttentionBenchmark.table(rows));
    Map<String, Object> report = benchmark.report(rows);
    stdout.println();
    stdout.print(AttentionBenchmark.rooflineTable(report));
    if (out != null) {
      writeJson(out, report);
      stdout.println("wrote " + out.toAbsolutePath());
    }
    stdout.flush();
    return 0;
  }

  static void writeJson(Path out, Map<String, Object> report) throws java.io.IOException {
    Path parent = out.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    ObjectMapper json = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
    Files.writeString(out, json.writeValueAsString(report) + "\n");
  }
}
