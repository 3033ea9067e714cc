package dev.reranker.ingest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single-node Kafka (KRaft: broker and controller in one) inside this JVM, for running the engine
 * with no cluster: the service starts one when no {@code spring.kafka.bootstrap-servers} is
 * configured, and the benchmarks use one. Its data directory is formatted on first use and kept,
 * so a restarted service finds its topics, changelogs and offsets again.
 *
 * <p>Replication factors are 1 (one node); fine for a demo or a laptop, not for production.
 */
public final class InProcessKafkaBroker implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(InProcessKafkaBroker.class);

  private final Path dataDir;
  private final int port;
  private final KafkaRaftServer server;

  private InProcessKafkaBroker(Path dataDir, int port, KafkaRaftServer server) {
    this.dataDir = dataDir;
    this.port = port;
    this.server = server;
  }

  /**
   * Formats (if needed) and starts a broker.
   *
   * @param dataDir its log and metadata directory
   * @param port the client port, or 0 for a free one
   */
  public static InProcessKafkaBroker start(Path dataDir, int port) {
    return start(dataDir, port, 0);
  }

  /**
   * Formats (if needed) and starts a broker.
   *
   * @param dataDir its log and metadata directory (a restart on the same one keeps the data)
   * @param port the client port, or 0 for a free one
   * @param controllerPort the KRaft controller's port, or 0 for a free one
   */
  public static InProcessKafkaBroker start(Path dataDir, int port, int controllerPort) {
    long started = System.nanoTime();
    try {
      Files.createDirectories(dataDir);
      int[] free = freePorts(2, port); // distinct from each other and from a configured port
      int clientPort = port == 0 ? free[0] : port;
      if (controllerPort == 0) {
        controllerPort = free[1] == clientPort ? freePorts(1, clientPort)[0] : free[1];
      }
      Properties p = new Properties();
      p.put("process.roles", "broker,controller");
      p.put("node.id", "1");
      p.put("controller.quorum.voters", "1@localhost:" + controllerPort);
      p.put("listeners", "PLAINTEXT://localhost:" + clientPort + ",CONTROLLER://localhost:"
          + controllerPort);
      p.put("advertised.listeners", "PLAINTEXT://localhost:" + clientPort);
      p.put("controller.listener.names", "CONTROLLER");
      p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
      p.put("inter.broker.listener.name", "PLAINTEXT");
      p.put("log.dirs", dataDir.toString());
      p.put("offsets.topic.replication.factor", "1");
      p.put("offsets.topic.num.partitions", "4");
      p.put("transaction.state.log.replication.factor", "1");
      p.put("transaction.state.log.min.isr", "1");
      p.put("transaction.state.log.num.partitions", "4");
      p.put("group.initial.rebalance.delay.ms", "0");
      p.put("share.coordinator.state.topic.replication.factor", "1");
      p.put("share.coordinator.state.topic.min.isr", "1");
      p.put("auto.create.topics.enable", "false");
      p.put("num.partitions", "4");
      p.put("log.retention.hours", "-1");
      KafkaConfig config = new KafkaConfig(p, false);
      if (!Files.exists(dataDir.resolve("meta.properties"))) {
        new Formatter()
            .setClusterId(Uuid.randomUuid().toString())
            .setNodeId(1)
            .addDirectory(dataDir.toString())
            .setMetadataLogDirectory(dataDir.toString())
            .setControllerListenerName("CONTROLLER")
            .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
            .setPrintStream(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()))
            .run();
      }
      KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
      server.startup();
      InProcessKafkaBroker broker = new InProcessKafkaBroker(dataDir, clientPort, server);
      log.info("started an in-process Kafka broker (KRaft) at {} with data in {} in {} ms",
          broker.bootstrapServers(), dataDir, (System.nanoTime() - started) / 1_000_000);
      return broker;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (Exception e) {
      throw new IllegalStateException("could not start the in-process Kafka broker in " + dataDir
          + ": " + e.getMessage(), e);
    }
  }

  public String bootstrapServers() {
    return "localhost:" + port;
  }

  public Path dataDir() {
    return dataDir;
  }

  @Override
  public void close() {
    server.shutdown();
    server.awaitShutdown();
    log.info("stopped the in-process Kafka broker at {}", bootstrapServers());
  }

  /**
   * {@code n} distinct ports free now (none equal to {@code avoid}, if given). The sockets are held open together while
   * the ports are picked: one at a time, the system may hand out the same port twice (it did, and
   * the broker refused two listeners on one port).
   */
  public static int[] freePorts(int n) throws IOException {
    return freePorts(n, 0);
  }

  private static int[] freePorts(int n, int avoid) throws IOException {
    java.util.List<ServerSocket> held = new java.util.ArrayList<>();
    try {
      int[] ports = new int[n];
      for (int i = 0; i < n; i++) {
        ServerSocket s;
        do {
          s = new ServerSocket(0);
          s.setReuseAddress(true);
          held.add(s);
        } while (s.getLocalPort() == avoid);
        ports[i] = s.getLocalPort();
      }
      return ports;
    } finally {
      for (ServerSocket s : held) {
        s.close();
      }
    }
  }
}
