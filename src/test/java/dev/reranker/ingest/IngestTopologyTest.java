package dev.reranker.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.reranker.data.EventType;
import dev.reranker.data.Interaction;
import dev.reranker.data.InteractionJson;
import dev.reranker.data.Topics;
import dev.reranker.model.Arm;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.state.ActiveModel;
import dev.reranker.state.CachedState;
import dev.reranker.state.ModelRegistry;
import dev.reranker.state.StateCache;
import dev.reranker.state.StateKey;
import dev.reranker.state.UserStates;
import dev.reranker.testing.Drivers;
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
import java.util.Set;
import org.apache.kafka.streams.StreamsBuilder;
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
  static final int DLQ_MAX_VALUE_BYTES = 1024;

  @BeforeEach
  void start() {
    states = new UserStates(
        new ModelRegistry(Map.of(Arm.PERFORMER, new ActiveModel(performer), Arm.SOFTMAX,
        new ActiveModel(softmax))), new StateCache(64L << 20, null, Ticker.systemTicker()), clock,
        new UserStates.Settings(50, Duration.ofMinutes(1), 20, 8), null);
    metrics = new IngestMetrics(new SimpleMeterRegistry());
    IngestSettings settings = new IngestSettings(Topics.INTERACTIONS, Topics.DEAD_LETTERS, 120,
        Duration.ofMinutes(5), 512, DLQ_MAX_VALUE_BYTES, 16, Duration.ofMillis(50),
        Set.of(Arm.PERFORMER));
    StreamsBuilder builder = new StreamsBuilder();
    IngestTopology.build(builder, settings, states, metrics, clock);
    driver = Drivers.open(builder, "ingest-test", stateDir);
    input = Drivers.input(driver, Topics.INTERACTIONS);
    dlq = Drivers.output(driver, Topics.DEAD_LETTERS);
  }

  @AfterEach
  void stop() {
    driver.close();
  }

  static byte[] json(Interaction e) {
    return InteractionJson.toJson(e).getBytes(StandardCharsets.UTF_8);
  }

  /**
   * With {@link EventAppliedEvent} enabled, a JFR recording holds one event per applied
   * interaction — not for a repeat, not for a rejected record — with its record's partition,
   * offset and timestamp: what the freshness benchmark and an operator read.
   */
  @Test
  void aRecordingWithTheAppliedEventEnabledSeesEveryAppliedInteraction() throws Exception {
    Interaction first = new Interaction("user-jfr", "i1", NOW - 5_000, EventType.VIEW, "jfr-1");
    Interaction second = new Interaction("user-jfr", "i2", NOW - 4_000, EventType.VIEW, "jfr-2");
    Path dump = stateDir.resolve("applied.jfr");
    try (jdk.jfr.Recording recording = new jdk.jfr.Recording()) {
      recording.enable(EventAppliedEvent.NAME);
      recording.start();
      input.pipeInput(new TestRecord<>("user-jfr", json(first), Instant.ofEpochMilli(NOW - 5_000)));
      input.pipeInput("user-jfr", json(first)); // a repeat: not applied
      input.pipeInput("user-jfr", "{not json".getBytes(StandardCharsets.UTF_8)); // rejected
      input.pipeInput(new TestRecord<>("user-jfr", json(second), Instant.ofEpochMilli(NOW - 4_000)));
      recording.stop();
      recording.dump(dump);
    }
    List<jdk.jfr.consumer.RecordedEvent> events = jdk.jfr.consumer.RecordingFile
        .readAllEvents(dump).stream()
        .filter(e -> e.getEventType().getName().equals(EventAppliedEvent.NAME)).toList();
    assertThat(events).extracting(e -> e.getString("eventId")).containsExactly("jfr-1", "jfr-2");
    assertThat(events).extracting(e -> e.getString("userId")).containsOnly("user-jfr");
    assertThat(events).extracting(e -> e.getLong("offset")).containsExactly(0L, 3L);
    assertThat(events).extracting(e -> e.getInt("partition")).containsOnly(0);
    assertThat(events.get(1).getInstant("recordTimestamp"))
        .isEqualTo(Instant.ofEpochMilli(NOW - 4_000));
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
        .lastHeader(DeadLetterHeaders.REASON_CODE_HEADER).value(), StandardCharsets.UTF_8))
        .toList();
    assertThat(codes).contains("malformed", "unknown_event_type", "future_timestamp",
        "key_mismatch", "oversized", "empty");
    assertThat(dead.get(0).headers().lastHeader(DeadLetterHeaders.REASON_HEADER)).isNotNull();
    assertThat(new String(dead.get(0).value(), StandardCharsets.UTF_8)).isEqualTo("{not json");
    assertThat(dead.get(0).headers().lastHeader(DeadLetterHeaders.SOURCE_OFFSET_HEADER))
        .isNotNull();

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

  /** applied + duplicates + rejected = produced, and the history holds exactly the applied. */
  void assertAccounting(int produced, Map<String, Integer> appliedPerUser) {
    driver.advanceWallClockTime(Duration.ofMillis(100));
    assertThat(metrics.appliedCount() + metrics.duplicateCount() + metrics.rejectedCount())
        .isEqualTo(produced);
    assertThat(metrics.appliedCount()).isEqualTo(
        appliedPerUser.values().stream().mapToInt(Integer::intValue).sum());
    appliedPerUser.forEach((user, n) -> {
      CachedState cached = states.cache().getIfPresent(new StateKey(user, Arm.PERFORMER));
      assertThat(cached).as(user).isNotNull();
      assertThat(cached.historyPosition()).as("events applied for %s", user).isEqualTo((long) n);
    });
  }

  @Test
  void aLateDuplicateIsAppliedOnce() {
    // stream time moves on with fresh events; the same event from 48 h ago arrives twice
    Interaction late = new Interaction("u1", "i3", NOW - 48 * 3_600_000L, EventType.VIEW, "old-1");
    input.pipeInput("u1", json(new Interaction("u1", "i1", NOW - 1000, EventType.VIEW, "new-1")));
    input.pipeInput("u1", json(late));
    input.pipeInput("u1", json(new Interaction("u1", "i2", NOW - 500, EventType.VIEW, "new-2")));
    input.pipeInput("u1", json(late));
    assertAccounting(4, Map.of("u1", 3));
    assertThat(metrics.duplicateCount()).isEqualTo(1);
  }

  @Test
  void aDuplicateAtTimestampZeroIsAppliedOnce() {
    Interaction zero = new Interaction("u2", "i4", 0, EventType.VIEW, "epoch-1");
    input.pipeInput("u2", json(new Interaction("u2", "i1", NOW - 1000, EventType.VIEW, "a")));
    input.pipeInput("u2", json(zero));
    input.pipeInput("u2", json(zero));
    assertAccounting(3, Map.of("u2", 2));
    assertThat(metrics.duplicateCount()).isEqualTo(1);
  }

  @Test
  void anEventIdSharedByTwoUsersInOnePartitionIsAppliedForBoth() {
    // event ids are unique per user: the same id for another user is another event
    input.pipeInput("ua", json(new Interaction("ua", "i1", NOW - 1000, EventType.VIEW, "shared")));
    input.pipeInput("ub", json(new Interaction("ub", "i2", NOW - 900, EventType.VIEW, "shared")));
    input.pipeInput("ub", json(new Interaction("ub", "i2", NOW - 900, EventType.VIEW, "shared")));
    assertAccounting(3, Map.of("ua", 1, "ub", 1));
    assertThat(metrics.duplicateCount()).isEqualTo(1);
  }

  @Test
  void aRetryBurstIsAppliedOnce() {
    int produced = 0;
    for (int i = 0; i < 10; i++) {
      Interaction e = new Interaction("u3", "i" + i, NOW - 10_000 + i, EventType.CLICK, "burst-" + i);
      int copies = i == 4 ? 25 : 1 + i % 3; // one event retried 25 times in a row
      for (int c = 0; c < copies; c++) {
        input.pipeInput("u3", json(e));
        produced++;
      }
    }
    assertAccounting(produced, Map.of("u3", 10));
    assertThat(metrics.duplicateCount()).isEqualTo(produced - 10);
  }

  @Test
  void anIdIsRecognisedWhileItsEventIsRetainedAndNotAfter() {
    // the documented contract: a repeat is dropped while the first event is in the user's retained
    // history (120 events here), whatever its timestamp; once the first is gone it applies again
    Interaction first = new Interaction("u4", "i1", NOW - 1_000_000, EventType.VIEW, "first");
    input.pipeInput("u4", json(first));
    for (int i = 0; i < 119; i++) {
      input.pipeInput("u4", json(new Interaction("u4", "i2", NOW - 900_000 + i, EventType.VIEW,
          "fill-" + i)));
    }
    input.pipeInput("u4", json(first)); // still retained (120 events): a duplicate
    input.pipeInput("u4", json(new Interaction("u4", "i2", NOW - 1, EventType.VIEW, "push")));
    input.pipeInput("u4", json(first)); // dropped from the history one event ago: applies
    assertAccounting(123, Map.of("u4", 122));
    assertThat(metrics.duplicateCount()).isEqualTo(1);
  }

  @Test
  void anOversizedRecordIsDeadLetteredTruncatedWithItsLengthAndDigest() throws Exception {
    byte[] big = new byte[200_000];
    java.util.Arrays.fill(big, (byte) 'x');
    input.pipeInput("u5", big);
    input.pipeInput("u5", json(new Interaction("u5", "i1", NOW - 1, EventType.VIEW, "after")));
    assertAccounting(2, Map.of("u5", 1));
    TestRecord<String, byte[]> dead = dlq.readRecord();
    assertThat(dead.value()).hasSize(DLQ_MAX_VALUE_BYTES);
    assertThat(new String(dead.headers().lastHeader(DeadLetterHeaders.TRUNCATED_HEADER).value(),
        StandardCharsets.UTF_8)).isEqualTo("200000");
    assertThat(new String(dead.headers().lastHeader(DeadLetterHeaders.ORIGINAL_SHA256_HEADER)
        .value(),
        StandardCharsets.UTF_8)).isEqualTo(java.util.HexFormat.of().formatHex(
            java.security.MessageDigest.getInstance("SHA-256").digest(big)));
    assertThat(new String(dead.headers().lastHeader(DeadLetterHeaders.REASON_CODE_HEADER).value(),
        StandardCharsets.UTF_8)).isEqualTo("oversized");
  }

  @Test
  void idsThatAreNotUnicodeScalarSequencesAndUndecodableBytesAreDeadLettered() {
    // "\ud800" and "\udfff" have no UTF-8 form: stored, both would become "?" and alias that user
    for (String bad : List.of("\\ud800", "\\udfff", "a\\ud800b", "x\\u0000y")) {
      input.pipeInput("?", ("{\"eventId\":\"s-" + bad + "\",\"userId\":\"" + bad
          + "\",\"itemId\":\"i1\",\"timestamp\":5,\"eventType\":\"view\"}")
          .getBytes(StandardCharsets.UTF_8));
    }
    // an item id with a lone surrogate, and bytes that are not UTF-8 at all
    input.pipeInput("u6", ("{\"eventId\":\"s\",\"userId\":\"u6\",\"itemId\":\"\\udfff\","
        + "\"timestamp\":5,\"eventType\":\"view\"}").getBytes(StandardCharsets.UTF_8));
    byte[] latin1 = "{\"eventId\":\"e\",\"userId\":\"caf\u00e9\",\"itemId\":\"i1\",\"timestamp\":5,"
        .concat("\"eventType\":\"view\"}").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    input.pipeInput("caf\u00e9", latin1);
    input.pipeInput("u6", "   \n\t ".getBytes(StandardCharsets.UTF_8)); // blank
    input.pipeInput("u6", json(new Interaction("u6", "i1", NOW - 1, EventType.VIEW, "fine")));
    assertAccounting(8, Map.of("u6", 1));
    List<String> codes = dlq.readRecordsToList().stream().map(r -> new String(r.headers()
        .lastHeader(DeadLetterHeaders.REASON_CODE_HEADER).value(), StandardCharsets.UTF_8))
        .toList();
    assertThat(codes).containsExactly("malformed", "malformed", "malformed", "malformed",
        "malformed", "malformed", "empty");
    assertThat(states.cache().getIfPresent(new StateKey("?", Arm.PERFORMER))).isNull();
  }

  @Test
  void snapshotBytesAreCounted() {
    for (int i = 0; i < 60; i++) { // snapshots every 50 events here
      input.pipeInput("u7", json(new Interaction("u7", "i" + (i % 10), NOW - 100_000 + i,
          EventType.VIEW, "snap-" + i)));
    }
    driver.advanceWallClockTime(Duration.ofMillis(100));
    assertThat(metrics.changelogBytes().get("snapshots")).isPositive();
    assertThat(metrics.changelogBytes().get("dedup")).isPositive();
  }
}
