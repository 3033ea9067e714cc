package dev.reranker.cli;

import dev.reranker.ingest.InProcessKafkaBroker;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code broker}: the single-node KRaft broker the service embeds, as a process of its own, so
 * tests and people can run "a Kafka" without Docker. Restarting it on the same data directory keeps
 * every topic and offset; SIGTERM shuts it down cleanly, SIGKILL is recovered from at the next
 * start (Kafka's own log recovery).
 */
@Command(name = "broker", mixinStandardHelpOptions = true,
    description = "Run a single-node Kafka broker (KRaft, broker + controller) until stopped. "
        + "Point the service at it with --spring.kafka.bootstrap-servers=localhost:PORT.")
final class BrokerCommand implements Callable<Integer> {

  /** What the command prints once the broker accepts clients (scripts and tests wait for it). */
  static final String READY = "broker listening on ";

  @Option(names = "--data-dir", defaultValue = "data/kafka",
      description = "Log and metadata directory (default: ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--port", defaultValue = "9092",
      description = "Client port (default: ${DEFAULT-VALUE}; 0 for a free one).")
  int port;

  @Option(names = "--controller-port", defaultValue = "0",
      description = "KRaft controller port (default: a free one).")
  int controllerPort;

  @Override
  public Integer call() throws InterruptedException {
    InProcessKafkaBroker broker = InProcessKafkaBroker.start(dataDir, port, controllerPort);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      broker.close();
      stopped.countDown();
    }, "broker-shutdown"));
    System.out.println(READY + broker.bootstrapServers() + " (data in " + dataDir.toAbsolutePath()
        + ")");
    System.out.flush();
    stopped.await();
    return 0;
  }
}
