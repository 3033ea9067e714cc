package dev.reranker.testing;

import java.nio.file.Path;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;

/** {@link TopologyTestDriver}s for the engine's topologies: String keys, byte[] values. */
public final class Drivers {
  private Drivers() {}

  /** A driver over the built topology, its state in {@code stateDir} (fresh per test). */
  public static TopologyTestDriver open(StreamsBuilder builder, String applicationId,
      Path stateDir) {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    return new TopologyTestDriver(builder.build(), props);
  }

  public static TestInputTopic<String, byte[]> input(TopologyTestDriver driver, String topic) {
    return driver.createInputTopic(topic, Serdes.String().serializer(),
        Serdes.ByteArray().serializer());
  }

  public static TestOutputTopic<String, byte[]> output(TopologyTestDriver driver, String topic) {
    return driver.createOutputTopic(topic, Serdes.String().deserializer(),
        Serdes.ByteArray().deserializer());
  }
}
