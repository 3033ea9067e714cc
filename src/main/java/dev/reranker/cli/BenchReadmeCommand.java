package dev.reranker.cli;

import dev.reranker.bench.ReadmeTables;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bench readme}: the README's benchmark tables from the benchmarks' JSON. */
@Command(name = "readme", mixinStandardHelpOptions = true,
    description = "Rewrite the README's benchmark sections (<!-- bench:NAME -->) from DIR/NAME.json,"
        + " with each measurement's date, commit and machine; --check only reports a difference "
        + "(exit 1).")
final class BenchReadmeCommand implements Callable<Integer> {

  @Option(names = "--dir", defaultValue = "docs/benchmarks",
      description = "The benchmarks' JSON (default: ${DEFAULT-VALUE}).")
  Path dir;

  @Option(names = "--readme", defaultValue = "README.md",
      description = "The file to rewrite (default: ${DEFAULT-VALUE}).")
  Path readme;

  @Option(names = "--check", description = "Change nothing; exit 1 if a section differs.")
  boolean check;

  @Override
  public Integer call() throws Exception {
    String before = Files.readString(readme);
    String after = ReadmeTables.update(before, dir);
    if (before.equals(after)) {
      System.out.println(readme + ": the benchmark sections " + ReadmeTables.sections(before)
          + " match " + dir);
      return 0;
    }
    if (check) {
      System.err.println(readme + ": benchmark sections differ from " + dir
          + " (run: java -jar target/reranker.jar bench readme)");
      return 1;
    }
    Files.writeString(readme, after);
    System.out.println(readme + ": rewrote " + ReadmeTables.sections(after) + " from " + dir);
    return 0;
  }
}
