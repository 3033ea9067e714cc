package dev.reranker.cli;

import dev.reranker.config.RerankerApplication;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code serve}: runs the service. Arguments after {@code serve} go to Spring Boot, e.g.
 * {@code serve --spring.kafka.bootstrap-servers=broker:9092 --server.port=8081}.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Run the service: Kafka ingestion (an in-process broker unless "
        + "--spring.kafka.bootstrap-servers is given) and the actuator endpoints. Further "
        + "arguments are Spring Boot properties (--name=value).")
final class ServeCommand implements Callable<Integer> {

  @Parameters(arity = "0..*", description = "Spring Boot arguments (--property=value).")
  List<String> positional = new ArrayList<>();

  @picocli.CommandLine.Unmatched
  List<String> springArguments = new ArrayList<>();

  @Override
  public Integer call() throws InterruptedException {
    List<String> args = new ArrayList<>(springArguments);
    args.addAll(positional);
    var context = RerankerApplication.run(args.toArray(String[]::new));
    // block until the context closes (SIGTERM runs Boot's shutdown hook)
    Object lock = new Object();
    context.addApplicationListener(e -> {
      if (e instanceof org.springframework.context.event.ContextClosedEvent) {
        synchronized (lock) {
          lock.notifyAll();
        }
      }
    });
    synchronized (lock) {
      while (context.isActive()) {
        lock.wait(1000);
      }
    }
    return 0;
  }
}
