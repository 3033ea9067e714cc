package dev.reranker.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code java -jar target/reranker.jar <command>}: the one entry point of the jar.
 *
 * <p>Commands that need no Spring context (benchmarks, and later training and evaluation) run
 * without starting one. Before anything touches ND4J, JavaCPP gets a bound on the process's physical
 * memory: ND4J's native buffers are only released when the garbage collector finalises their Java
 * owners, and with the bound JavaCPP triggers that collection instead of letting the native heap
 * grow unchecked.
 */
@Command(name = "reranker", mixinStandardHelpOptions = true,
    versionProvider = RerankerMain.Version.class,
    description = "Reranking engine for recommender systems: causal Performer (FAVOR+) over lifetime "
        + "histories, exact softmax attention as the A/B baseline.",
    subcommands = {ServeCommand.class, ProduceCommand.class, TrainCommand.class,
        TrainDemoCommand.class, EvaluateCommand.class, ConvertCommand.class, BenchCommand.class,
        ExperimentCommand.class, BrokerCommand.class, RepartitionCommand.class,
        CommandLine.HelpCommand.class})
public final class RerankerMain implements Runnable {

  /** System property JavaCPP reads for its physical-memory bound. */
  static final String MAX_PHYSICAL_BYTES = "org.bytedeco.javacpp.maxphysicalbytes";

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs a command line and returns its exit code (0 ok, 1 failure, 2 bad arguments). */
  public static int execute(String... args) {
    boundNativeMemory();
    return commandLine().execute(args);
  }

  static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new RerankerMain());
    cli.setCaseInsensitiveEnumValuesAllowed(true);
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      if (e instanceof IllegalArgumentException) { // bad arguments: a usage error
        commandLine.getErr().println("error: " + e.getMessage());
        return 2;
      }
      if (e instanceof java.io.IOException) { // unreadable data, refused model artifact …
        commandLine.getErr().println("error: " + e.getMessage());
        return 1;
      }
      throw e;
    });
    return cli;
  }

  /** Heap + 4 GiB unless the user set it (-D on the command line or JAVA_TOOL_OPTIONS). */
  static void boundNativeMemory() {
    if (System.getProperty(MAX_PHYSICAL_BYTES) == null) {
      long bound = Runtime.getRuntime().maxMemory() + (4L << 30);
      System.setProperty(MAX_PHYSICAL_BYTES, Long.toString(bound));
    }
  }

  /** No command: a usage error (exit 2, the commands listed on stderr), as for an unknown one. */
  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(),
        "missing command: one of " + String.join(", ", spec.subcommands().keySet()));
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = RerankerMain.class.getPackage().getImplementationVersion();
      return new String[] {"reranker " + (v == null ? "(development build)" : v)};
    }
  }
}
