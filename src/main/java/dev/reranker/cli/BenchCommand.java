package dev.reranker.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code bench <what>}: benchmarks that print a table and write one JSON object. */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Benchmarks: each prints a table and writes one JSON object (--out).",
    subcommands = {BenchAttentionCommand.class, BenchIngestCommand.class,
        BenchRerankCommand.class, BenchSoakCommand.class, BenchRestoreCommand.class,
        BenchTrainingCommand.class, BenchTrainingMemoryCommand.class, BenchLengthsCommand.class, BenchReadmeCommand.class})
final class BenchCommand implements Runnable {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  /** No benchmark named: a usage error, as for the jar's own commands. */
  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(),
        "missing benchmark: one of " + String.join(", ", spec.subcommands().keySet()));
  }
}
