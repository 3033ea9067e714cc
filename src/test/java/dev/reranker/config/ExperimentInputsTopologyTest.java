package dev.reranker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.reranker.data.EventType;
import dev.reranker.data.Interaction;
import dev.reranker.data.InteractionJson;
import dev.reranker.data.Topics;
import dev.reranker.experiment.ArmAggregate;
import dev.reranker.experiment.ArmChoice;
import dev.reranker.experiment.Exposure;
import dev.reranker.experiment.OutcomeJoin;
import dev.reranker.experiment.ReplayJoin;
import dev.reranker.ingest.EventAcceptance;
import dev.reranker.ingest.IngestMetrics;
import dev.reranker.ingest.IngestSettings;
import dev.reranker.ingest.IngestTopology;
import dev.reranker.model.Arm;
import dev.reranker.state.ActiveModel;
import dev.reranker.state.ModelRegistry;
import dev.reranker.state.StateCache;
import dev.reranker.state.UserStates;
import dev.reranker.testing.Drivers;
import dev.reranker.testing.ManualTime;
import dev.reranker.testing.TestModels;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * Issue 18, 2: the outcome join sees exactly the events the engine accepted. The service's
 * topology (ingestion and join, as {@code EngineConfiguration} wires them) on {@link
 * TopologyTestDriver}, run twice over the same users, exposures and true interactions: once
 * alone, once with hostile records next to every served user — a click stamped in the year 2100,
 * a malformed value, a repeated event id stamped after the exposure on a served item, another
 * user's event under this user's key, an event from 1970, and an event id re-sent after it left
 * the retained history. Before, the 2100 click resolved the user's pending exposures as misses and
 * made every later exposure an instant miss, and the repeat resolved an exposure as a hit. Now
 * every arm's aggregate and every outcome record are identical to the control run's, the join
 * counts what it ignored per reason, and the replay with the ingestion's acceptance rule agrees.
 */
class ExperimentInputsTopologyTest {

  static final long NOW = 1_767_225_600_000L;
  static final long YEAR_2100 = 4_102_444_800_000L;
  static final int USERS = 20;
  static final int HISTORY = 10;
  static final int HISTORY_LIMIT = 8;
  static final ObjectMapper JSON = JsonMapper.builder().build();

  @TempDir
  Path stateDir;

  record Sent(String topic, String key, byte[] value) {}

  record Run(Map<OutcomeJoin.Key, byte[]> aggregates, List<String> outcomes,
      Map<String, Long> ignored, Map<OutcomeJoin.Key, ArmAggregate> decoded) {}

  @Test
  void hostileInteractionsNextToServedUsersChangeNoArmsNumbersAndTheReplayAgrees() {
    List<Sent> control = records(false);
    List<Sent> hostile = records(true);
    assertThat(hostile.size()).isGreaterThan(control.size() + 5 * USERS);
    Run a = run(control, "control");
    Run b = run(hostile, "hostile");

    assertThat(a.decoded()).hasSize(2);
    assertThat(a.decoded().values().stream().mapToLong(ArmAggregate::exposures).sum())
        .isEqualTo(2L * USERS);
    assertThat(b.aggregates().keySet()).isEqualTo(a.aggregates().keySet());
    a.aggregates().forEach((k, bytes) -> assertThat(b.aggregates().get(k)).as("%s", k)
        .isEqualTo(bytes));
    assertThat(b.outcomes()).isEqualTo(a.outcomes()).hasSize(2 * USERS);
    assertThat(a.ignored()).isEmpty();
    assertThat(b.ignored()).isEqualTo(Map.of("future_timestamp", (long) USERS, "malformed",
        (long) USERS, "duplicate_event_id", (long) USERS, "key_mismatch", (long) USERS));
    // no exposure was resolved as a miss: every user acted within the horizon
    b.decoded().values().forEach(x -> assertThat(x.resolvedAsMiss()).isZero());

    for (var pair : List.of(List.of(control, a), List.of(hostile, b))) {
      @SuppressWarnings("unchecked")
      ReplayJoin.Replayed r = replay((List<Sent>) pair.get(0));
      Run live = (Run) pair.get(1);
      assertThat(r.ignoredInteractions()).isEqualTo(live.ignored());
      assertThat(r.aggregates().keySet()).isEqualTo(live.decoded().keySet());
      r.aggregates().forEach((k, x) -> {
        ArmAggregate y = live.decoded().get(k);
        assertThat(x.exposures()).isEqualTo(y.exposures());
        assertThat(x.resolvedAsMiss()).isEqualTo(y.resolvedAsMiss());
        assertThat(x.hits().users()).isEqualTo(y.hits().users());
        assertThat(x.hits().denominator()).isEqualTo(y.hits().denominator());
        assertThat(x.hits().ratio()).isCloseTo(y.hits().ratio(), within(1e-12));
        assertThat(x.ndcg().ratio()).isCloseTo(y.ndcg().ratio(), within(1e-12));
        assertThat(x.reciprocalRank().ratio()).isCloseTo(y.reciprocalRank().ratio(),
            within(1e-12));
      });
    }
  }

  /** The same users, exposures and true events; with {@code hostile}, the hostile records too. */
  static List<Sent> records(boolean hostile) {
    List<Sent> out = new ArrayList<>();
    long t0 = NOW - 3 * 3_600_000L;
    for (int u = 0; u < USERS; u++) {
      String user = "u" + u;
      for (int e = 0; e < HISTORY; e++) {
        out.add(event(user, new Interaction(user, "i" + ((u + e) % TestModels.ITEMS),
            t0 + e * 1000L, EventType.VIEW, user + "-h" + e)));
      }
    }
    long served = NOW - 3_600_000L;
    for (int u = 0; u < USERS; u++) {
      String user = "u" + u;
      ArmChoice arm = u % 2 == 0 ? ArmChoice.PERFORMER : ArmChoice.SOFTMAX;
      List<String> list = List.of("a" + u, "b" + u, "c" + u, "d" + u);
      out.add(exposure(new Exposure("r1-" + u, "exp", user, arm, "v", list, served + u, 1.0,
          100, false, 3, false, null, 0, false)));
      if (hostile) {
        // a client with a wrong clock: the ingestion refuses it (future_timestamp)
        out.add(event(user, new Interaction(user, list.get(0), YEAR_2100, EventType.CLICK,
            user + "-2100")));
        out.add(new Sent(Topics.INTERACTIONS, user, "{\"userId\":".getBytes(
            StandardCharsets.UTF_8))); // malformed
        // a repeated event id, stamped after the exposure, on a served item: a repeat
        out.add(event(user, new Interaction(user, list.get(1), served + u + 10,
            EventType.CLICK, user + "-h" + (HISTORY - 1))));
        // another user's event under this user's key: key_mismatch
        out.add(event(user, new Interaction("other-" + u, list.get(0), served + u + 20,
            EventType.CLICK, "other-" + u + "-1")));
        // accepted, but from 1970 and so before every exposure: it resolves nothing
        out.add(event(user, new Interaction(user, list.get(2), 1_000L, EventType.VIEW,
            user + "-1970")));
        // an id that left the retained history (8 of 10 kept): accepted again, with its old
        // time, so it resolves nothing either
        out.add(event(user, new Interaction(user, "i" + (u % TestModels.ITEMS), t0,
            EventType.VIEW, user + "-h0")));
      }
      int pick = u % 5; // a served item at rank 1..4, or something else
      out.add(event(user, new Interaction(user, pick < 4 ? list.get(pick) : "elsewhere",
          served + u + 60_000, EventType.CLICK, user + "-t1")));
      out.add(exposure(new Exposure("r2-" + u, "exp", user, arm, "v", list,
          served + u + 120_000, 1.0, 100, false, 3, false, null, 0, false)));
      out.add(event(user, new Interaction(user, list.get((u + 1) % 4), served + u + 180_000,
          EventType.CLICK, user + "-t2")));
    }
    return out;
  }

  static Sent event(String key, Interaction e) {
    return new Sent(Topics.INTERACTIONS, key, InteractionJson.toJson(e).getBytes(
        StandardCharsets.UTF_8));
  }

  static Sent exposure(Exposure e) {
    return new Sent(Topics.EXPOSURES, e.userId(), JSON.writeValueAsBytes(e));
  }

  static IngestSettings settings() {
    return new IngestSettings(Topics.INTERACTIONS, Topics.DEAD_LETTERS, HISTORY_LIMIT,
        Duration.ofMinutes(5), 4096, 4096, 16, Duration.ofMillis(50), Set.of(Arm.PERFORMER));
  }

  /** The service's topology, as EngineConfiguration wires it. */
  Run run(List<Sent> records, String name) {
    ManualTime time = new ManualTime(NOW);
    UserStates states = new UserStates(new ModelRegistry(Map.of(Arm.PERFORMER,
        new ActiveModel(TestModels.model(Arm.PERFORMER, 3)))),
        new StateCache(64L << 20, null, Ticker.systemTicker()), time,
        new UserStates.Settings(4, Duration.ofMinutes(1), 20, 8), null);
    StreamsBuilder builder = new StreamsBuilder();
    IngestTopology.Ingested ingested = IngestTopology.build(builder, settings(), states,
        new IngestMetrics(new SimpleMeterRegistry()), time);
    OutcomeJoin.addTo(builder, ingested.accepted(), ingested.ignored(),
        new OutcomeJoin.Settings(Topics.EXPOSURES, Topics.OUTCOMES, Duration.ofHours(24),
            Duration.ofMinutes(1), Duration.ofHours(1)), time, reason -> {
              throw new AssertionError("no exposure may be dropped: " + reason);
            });
    try (TopologyTestDriver driver = Drivers.open(builder, "inputs-" + name,
        stateDir.resolve(name))) {
      TestInputTopic<String, byte[]> interactions = Drivers.input(driver, Topics.INTERACTIONS);
      TestInputTopic<String, byte[]> exposures = Drivers.input(driver, Topics.EXPOSURES);
      for (Sent s : records) {
        (s.topic().equals(Topics.EXPOSURES) ? exposures : interactions).pipeInput(s.key(),
            s.value(), NOW);
      }
      driver.advanceWallClockTime(Duration.ofMinutes(2)); // a sweep
      Map<OutcomeJoin.Key, ArmAggregate> decoded = OutcomeJoin.aggregates(
          driver.getKeyValueStore(Topics.ARM_AGGREGATES_STORE));
      Map<OutcomeJoin.Key, byte[]> bytes = new HashMap<>();
      decoded.forEach((k, v) -> bytes.put(k, OutcomeJoin.encode(v)));
      List<String> outcomes = Drivers.output(driver, Topics.OUTCOMES).readValuesToList().stream()
          .map(v -> new String(v, StandardCharsets.UTF_8)).toList();
      Map<String, Long> ignored = OutcomeJoin.ignored(driver.getKeyValueStore(
          Topics.IGNORED_INTERACTIONS_STORE));
      return new Run(bytes, outcomes, new TreeMap<>(ignored), decoded);
    }
  }

  /** {@code experiment replay}'s computation over the same raw records. */
  static ReplayJoin.Replayed replay(List<Sent> records) {
    EventAcceptance acceptance = new EventAcceptance(settings());
    List<ReplayJoin.KeyedRecord> exposures = new ArrayList<>();
    List<Interaction> accepted = new ArrayList<>();
    Map<String, Long> ignored = new TreeMap<>();
    for (Sent s : records) {
      if (s.topic().equals(Topics.EXPOSURES)) {
        exposures.add(new ReplayJoin.KeyedRecord(s.key(), s.value()));
      } else {
        switch (acceptance.accept(s.key(), s.value(), NOW)) {
          case EventAcceptance.Accepted x -> accepted.add(x.event());
          case EventAcceptance.Ignored x -> ignored.merge(x.reason(), 1L, Long::sum);
        }
      }
    }
    return ReplayJoin.fromRecords(exposures, accepted, ignored, Duration.ofHours(24),
        NOW + Duration.ofMinutes(2).toMillis());
  }
}
