package dev.reranker.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.reranker.data.EventType;
import dev.reranker.data.Interaction;
import dev.reranker.data.InteractionJson;
import dev.reranker.model.Arm;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.state.ActiveModel;
import dev.reranker.state.CachedState;
import dev.reranker.state.StateCache;
import dev.reranker.state.StateKey;
import dev.reranker.state.UserStates;
import dev.reranker.testing.TestModels;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The topology on {@link TopologyTestDriver}: validation, DLQ, dedup, history, exact states. */
class IngestTopologyTest {

  static final long NOW = 1_767_225_600_000L;
  final ModelArtifacts.TrainedModel performer = TestModels.model(Arm.PERFORMER, 7);
  final ModelArtifacts.TrainedModel softmax = TestModels.model(Arm.SOFTMAX, 8);
  final Clock clock = Clock.fixed(Instant.ofEpochMilli(NOW), ZoneOffset.UTC);

  @TempDir
  Path stateDir;
  TopologyTestDriver driver;
  TestInputTopic<String, byte[]> input;
  TestOutputTopic<String, byte[]> dlq;
  UserStates states;
  IngestMetrics metrics;

  @BeforeEach
  void start() {
    states = new UserStates(Map.of(Arm.PERFORMER, new ActiveModel(performer), Arm.SOFTMAX,
        new ActiveModel(softmax)), new StateCache(64L << 20, null, Ticker.systemTicker()), clock,
        new UserStates.Settings(50, Duration.ofMinutes(1), 20, 8, 120), null);
    metrics = new IngestMetrics(new SimpleMeterRegistry());
    IngestSettings settings = new IngestSettings(IngestTopics.INTERACTIONS, IngestTopics.DLQ, 120,
        Duration.ofMinutes(5), 512, Duration.ofHours(24), 16, Duration.ofMillis(50),
        Set.of(Arm.PERFORMER));
    StreamsBuilder builder = new StreamsBuilder();
    IngestTopology.build(builder, settings, states, metrics, clock);
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "ingest-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    driver = new TopologyTestDriver(builder.build(), props);
    input = driver.createInputTopic(IngestTopics.INTERACTIONS, Serdes.String().serializer(),
        Serdes.ByteArray().serializer());
    dlq = driver.createOutputTopic(IngestTopics.DLQ, Serdes.String().deserializer(),
        Serdes.ByteArray().deserializer());
  }

  @AfterEach
  void stop() {
    driver.close();
  }

  static byte[] json(Interaction e) {
    return InteractionJson.toJson(e).getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void goodEventsBuildExactStatesBadOnesGoToTheDlqDuplicatesApplyOnce() {
    Map<String, List<Interaction>> applied = new HashMap<>();
    List<String> badReasons = new ArrayList<>();
    int produced = 0;
    long t = NOW - 10_000_000L;
    for (int i = 0; i < 400; i++) {
      String user = "user-" + (i % 5);
      t += 1000;
      String item = i % 11 == 5 ? "never-seen-" + i : "i" + (i * 7 % TestModels.ITEMS);
      Interaction e = new Interaction(user, item, t, EventType.VIEW, "e" + i);
      input.pipeInput(user, json(e));
      produced++;
      applied.computeIfAbsent(user, u -> new ArrayList<>()).add(e);
      if (i % 17 == 0) { // a producer retry
        input.pipeInput(user, json(e));
        produced++;
      }
      if (i % 23 == 0) { // one bad record of each kind, in turn
        switch ((i / 23) % 7) {
          case 0 -> input.pipeInput(user, "{not json".getBytes(StandardCharsets.UTF_8));
          case 1 -> input.pipeInput(user, ("{\"eventId\":\"x" + i + "\",\"userId\":\"" + user
              + "\",\"timestamp\":5,\"eventType\":\"view\"}").getBytes(StandardCharsets.UTF_8));
          case 2 -> input.pipeInput(user, ("{\"eventId\":\"x" + i + "\",\"userId\":\"" + user
              + "\",\"itemId\":\"i1\",\"timestamp\":5,\"eventType\":\"teleport\"}")
              .getBytes(StandardCharsets.UTF_8));
          case 3 -> input.pipeInput(user, json(new Interaction(user, "i1", NOW + 3_600_000L,
              EventType.VIEW, "x" + i)));
          case 4 -> input.pipeInput("someone-else", json(new Interaction(user, "i1", t,
              EventType.VIEW, "x" + i)));
          case 5 -> input.pipeInput(user, ("{\"eventId\":\"" + "x".repeat(600) + "\"}")
              .getBytes(StandardCharsets.UTF_8));
          default -> input.pipeInput(user, (byte[]) null);
        }
        produced++;
        badReasons.add("" + (i / 23) % 7);
      }
    }
    driver.advanceWallClockTime(Duration.ofMillis(100)); // the flush punctuator

    List<TestRecord<String, byte[]>> dead = dlq.readRecordsToList();
    assertThat(dead).hasSize(badReasons.size());
    List<String> codes = dead.stream().map(r -> new String(r.headers()
        .lastHeader(IngestTopics.REASON_CODE_HEADER).value(), StandardCharsets.UTF_8)).toList();
    assertThat(codes).contains("malformed", "unknown_event_type", "future_timestamp",
        "key_mismatch", "oversized", "empty");
    assertThat(dead.get(0).headers().lastHeader(IngestTopics.REASON_HEADER)).isNotNull();
    assertThat(new String(dead.get(0).value(), StandardCharsets.UTF_8)).isEqualTo("{not json");
    assertThat(dead.get(0).headers().lastHeader(IngestTopics.SOURCE_OFFSET_HEADER)).isNotNull();

    assertThat(metrics.appliedCount()).isEqualTo(400);
    assertThat(metrics.duplicateCount()).isEqualTo(24); // i = 0, 17, …, 391
    assertThat(metrics.rejectedCount()).isEqualTo(badReasons.size());
    assertThat(metrics.appliedCount() + metrics.duplicateCount() + metrics.rejectedCount())
        .isEqualTo(produced);
    long unknown = applied.values().stream().flatMap(List::stream)
        .filter(e -> e.itemId().startsWith("never-seen")).count();
    assertThat(unknown).isPositive();
    assertThat(metrics.unknownItemCount(Arm.PERFORMER)).isEqualTo(unknown);

    // every user's cached performer state equals batch-encoding its known events (all 80 retained)
    for (Map.Entry<String, List<Interaction>> u : applied.entrySet()) {
      CachedState cached = states.cache().getIfPresent(new StateKey(u.getKey(), Arm.PERFORMER));
      assertThat(cached).as(u.getKey()).isNotNull();
      assertThat(cached.historyPosition()).isEqualTo(80);
      List<Interaction> known = u.getValue().stream()
          .filter(e -> performer.items().indexOf(e.itemId()) >= 0).toList();
      float[] expected = TestModels.batchUserVector(performer, known.stream()
          .map(Interaction::itemId).toList(), known.stream().map(Interaction::timestamp).toList());
      assertThat(TestModels.maxDiff(cached.state().userVector(), expected)).isLessThan(1e-4);
    }
  }
}
