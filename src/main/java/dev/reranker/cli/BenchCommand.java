package dev.reranker.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code bench <what>}: benchmarks that print a table and write one JSON object. */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Benchmarks: each prints a table and writes one JSON object (--out).",
    subcommands = {BenchAttentionCommand.class, BenchIngestCommand.class,
        BenchRerankCommand.class, BenchSoakCommand.class, BenchRestoreCommand.class})
final class BenchCommand implements Runnable {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}
