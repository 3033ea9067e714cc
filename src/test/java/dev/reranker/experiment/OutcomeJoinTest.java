package dev.reranker.experiment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.reranker.data.EventType;
import dev.reranker.data.Interaction;
import dev.reranker.data.InteractionJson;
import dev.reranker.data.Topics;
import dev.reranker.experiment.stats.UserMoments;
import dev.reranker.testing.Drivers;
import dev.reranker.testing.ManualTime;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

/**
 * The outcome join on {@link TopologyTestDriver}: its aggregates against an independent
 * computation from the same exposures and interactions, the horizon, bounded state.
 */
class OutcomeJoinTest {

  static final long NOW = 1_767_225_600_000L;
  final ManualTime time = new ManualTime(NOW);

  @TempDir
  Path stateDir;
  TopologyTestDriver driver;
  TestInputTopic<String, byte[]> exposures;
  TestInputTopic<String, byte[]> interactions;
  TestOutputTopic<String, byte[]> outcomes;
  final List<String> dropped = new ArrayList<>();

  /**
   * The join alone: its input stands in for the ingestion's applied events (parsed here; the
   * ingestion's own acceptance is held by {@code ExperimentInputsTopologyTest}).
   */
  @BeforeEach
  void start() {
    StreamsBuilder builder = new StreamsBuilder();
    KStream<String, Interaction> events = builder.stream(Topics.INTERACTIONS,
        Consumed.with(Serdes.String(), Serdes.ByteArray()))
        .mapValues(v -> {
          try {
            return InteractionJson.parse(new String(v, StandardCharsets.UTF_8));
          } catch (dev.reranker.data.InvalidEventException e) {
            throw new AssertionError(e);
          }
        });
    KStream<String, String> ignored = builder.stream("ignored-interactions",
        Consumed.with(Serdes.String(), Serdes.String()));
    OutcomeJoin.addTo(builder, events, ignored, new OutcomeJoin.Settings(Topics.EXPOSURES,
        Topics.OUTCOMES, Duration.ofHours(24), Duration.ofMinutes(1), Duration.ofHours(1)), time,
        dropped::add);
    driver = Drivers.open(builder, "outcome-join-test", stateDir);
    exposures = Drivers.input(driver, Topics.EXPOSURES);
    interactions = Drivers.input(driver, Topics.INTERACTIONS);
    outcomes = Drivers.output(driver, Topics.OUTCOMES);
  }

  @AfterEach
  void stop() {
    driver.close();
  }

  static final tools.jackson.databind.ObjectMapper JSON = JsonMapper.builder().build();

  void expose(Exposure e) {
    exposures.pipeInput(e.userId(), JSON.writeValueAsString(e).getBytes(StandardCharsets.UTF_8));
  }

  void interact(String user, String item, long at) {
    interactions.pipeInput(user, InteractionJson.toJson(new Interaction(user, item, at,
        EventType.CLICK, user + "-" + at + "-" + item)).getBytes(StandardCharsets.UTF_8));
  }

  Map<OutcomeJoin.Key, ArmAggregate> aggregates() {
    KeyValueStore<Bytes, byte[]> store = driver.getKeyValueStore(Topics.ARM_AGGREGATES_STORE);
    return OutcomeJoin.aggregates(store);
  }

  @Test
  void aggregatesEqualAnIndependentUserLevelComputation() {
    SplittableRandom r = new SplittableRandom(5);
    Map<String, double[]> byUser = new HashMap<>(); // user → {hits, resolved}
    Map<ArmChoice, Long> exposuresPerArm = new HashMap<>();
    long t = NOW - 3_600_000;
    int request = 0;
    for (int round = 0; round < 6; round++) {
      for (int u = 0; u < 40; u++) {
        String user = "u" + u;
        ArmChoice arm = u % 2 == 0 ? ArmChoice.PERFORMER : ArmChoice.SOFTMAX;
        int shown = 1 + r.nextInt(2); // one or two exposures before the user acts
        List<String> served = List.of("a" + u, "b" + u, "c" + u, "d" + u);
        for (int s = 0; s < shown; s++) {
          expose(new Exposure("r" + request++, "exp", user, arm, "v", served, t++, 1.5 + s,
              1000, false, 3, false, null, 0, false));
          exposuresPerArm.merge(arm, 1L, Long::sum);
        }
        // the next interaction: a served item (rank 1..4) or something else
        int pick = r.nextInt(6);
        String item = pick < 4 ? served.get(pick) : "elsewhere";
        interact(user, item, t++);
        double hit = pick < 3 ? 1 : 0; // k = 3
        byUser.computeIfAbsent(user, x -> new double[2]);
        byUser.get(user)[0] += hit * shown;
        byUser.get(user)[1] += shown;
      }
    }
    interact("u0", "a0", t++); // nothing pending: no effect
    // every resolved exposure once on the outcomes topic, keyed by its user, its rank as joined
    List<org.apache.kafka.streams.test.TestRecord<String, byte[]>> emitted =
        outcomes.readRecordsToList();
    assertThat((long) emitted.size()).isEqualTo(exposuresPerArm.values().stream()
        .mapToLong(Long::longValue).sum());
    Map<String, double[]> fromOutcomes = new HashMap<>(); // user → {hits, resolved}
    for (var rec : emitted) {
      ResolvedOutcome o = JSON.readValue(rec.value(), ResolvedOutcome.class);
      assertThat(o.userId()).isEqualTo(rec.key());
      assertThat(o.experiment()).isEqualTo("exp");
      assertThat(o.expired()).isFalse();
      assertThat(o.arm()).isEqualTo(Integer.parseInt(o.userId().substring(1)) % 2 == 0
          ? ArmChoice.PERFORMER : ArmChoice.SOFTMAX);
      double[] v = fromOutcomes.computeIfAbsent(o.userId(), x -> new double[2]);
      v[0] += o.rank() >= 1 && o.rank() <= o.k() ? 1 : 0;
      v[1] += 1;
    }
    byUser.forEach((user, v) -> assertThat(fromOutcomes.get(user)).as(user).containsExactly(v));
    assertThat(dropped).isEmpty();
    Map<OutcomeJoin.Key, ArmAggregate> got = aggregates();
    assertThat(got).hasSize(2);
    for (ArmChoice arm : List.of(ArmChoice.PERFORMER, ArmChoice.SOFTMAX)) {
      UserMoments expected = new UserMoments();
      byUser.forEach((user, v) -> {
        boolean mine = Integer.parseInt(user.substring(1)) % 2 == (arm == ArmChoice.PERFORMER
            ? 0 : 1);
        if (mine) {
          expected.addUser(v[0], v[1]);
        }
      });
      ArmAggregate a = got.get(new OutcomeJoin.Key("exp", arm));
      assertThat(a.exposures()).isEqualTo(exposuresPerArm.get(arm));
      assertThat(a.hits().users()).isEqualTo(20);
      assertThat(a.hits().denominator()).isEqualTo(expected.denominator());
      assertThat(a.hits().ratio()).isCloseTo(expected.ratio(), within(1e-12));
      assertThat(a.hits().ratioVariance()).isCloseTo(expected.ratioVariance(), within(1e-12));
      assertThat(a.latencyMs(50)).isBetween(1.4, 2.6);
      assertThat(a.meanStateBytes()).isEqualTo(1000.0);
    }
    assertThat(pendingCount()).isZero();
  }

  @Test
  void unusableExposureRecordsAreDroppedAndCountedAndResolveNothing() {
    // served after the interaction below (an exposure resolves against the first interaction at
    // or after it, whatever the order the two arrive in)
    Exposure good = new Exposure("r1", "exp", "u1", ArmChoice.PERFORMER, "v", List.of("a", "b"),
        NOW - 450, 1.0, 100, false, 2, false, null, 0, false);
    exposures.pipeInput("u1", "{not json".getBytes(StandardCharsets.UTF_8));
    exposures.pipeInput("u2", JSON.writeValueAsBytes(good)); // keyed by another user
    exposures.pipeInput("u1", JSON.writeValueAsBytes(new Exposure("r2", "exp", "u1", null, "v",
        List.of("a"), NOW - 1000, 1.0, 100, false, 2, false, null, 0, false))); // no arm
    exposures.pipeInput("u1", (byte[]) null);
    assertThat(dropped).hasSize(4);
    assertThat(dropped.get(0)).startsWith("unreadable exposure");
    assertThat(dropped.get(1)).contains("keyed by another");
    assertThat(dropped.get(3)).contains("without key or value");
    interact("u1", "a", NOW - 500);
    assertThat(aggregates()).isEmpty();
    assertThat(outcomes.readRecordsToList()).isEmpty();
    expose(good); // the one usable record resolves as usual
    interact("u1", "b", NOW - 400);
    ResolvedOutcome o = JSON.readValue(outcomes.readValue(), ResolvedOutcome.class);
    assertThat(o.rank()).isEqualTo(2);
    assertThat(o.itemId()).isEqualTo("b");
    assertThat(dropped).hasSize(4);
  }

  long pendingCount() {
    return storeSize(Topics.PENDING_EXPOSURES_STORE);
  }

  @Test
  void anInteractionBeforeTheExposureDoesNotResolveItAndTheHorizonCountsAMiss() {
    expose(new Exposure("r1", "exp", "u", ArmChoice.PERFORMER, "v", List.of("x", "y"), NOW, 2,
        10, false, 2, false, null, 0, false));
    interact("u", "x", NOW - 5_000); // earlier than the exposure: not its outcome
    assertThat(pendingCount()).isEqualTo(1);
    driver.advanceWallClockTime(Duration.ofMinutes(2)); // sweeps, but within the horizon
    assertThat(pendingCount()).isEqualTo(1);
    time.advance(Duration.ofHours(25));
    driver.advanceWallClockTime(Duration.ofMinutes(2));
    assertThat(pendingCount()).isZero();
    ArmAggregate a = aggregates().get(new OutcomeJoin.Key("exp", ArmChoice.PERFORMER));
    assertThat(a.resolvedAsMiss()).isEqualTo(1);
    assertThat(a.hits().denominator()).isEqualTo(1);
    assertThat(a.hits().ratio()).isEqualTo(0.0);
  }

  /**
   * An interaction that arrives after an exposure but happened before it leaves it pending, and
   * the user's next interaction resolves it: the per-user bound on what is pending must not pass
   * an exposure served after the first interaction's time.
   */
  @Test
  void anExposureLeftPendingByAnEarlierInteractionIsResolvedByTheNextOne() {
    expose(new Exposure("r0", "exp", "u", ArmChoice.PERFORMER, "v", List.of("x", "y"),
        NOW - 10_000, 2, 10, false, 2, false, null, 0, false));
    expose(new Exposure("r1", "exp", "u", ArmChoice.PERFORMER, "v", List.of("x", "y"), NOW, 2,
        10, false, 2, false, null, 0, false));
    // between the two: resolves r0, not r1, which was served after it happened
    interact("u", "z", NOW - 5_000);
    assertThat(pendingCount()).isEqualTo(1);
    assertPerUserCountsMatchPending();
    interact("u", "y", NOW + 1_000);
    assertThat(pendingCount()).isZero();
    assertPerUserCountsMatchPending();
    List<ResolvedOutcome> resolved = outcomes.readValuesToList().stream()
        .map(v -> JSON.readValue(v, ResolvedOutcome.class)).toList();
    assertThat(resolved).extracting(ResolvedOutcome::requestId).containsExactly("r0", "r1");
    assertThat(resolved.get(0).rank()).isZero(); // z was not served
    assertThat(resolved.get(1).rank()).isEqualTo(2);
    assertThat(resolved.get(1).expired()).isFalse();
  }

  /** The served-time index's keys, less its marker. */
  java.util.Set<Bytes> indexKeys() {
    java.util.Set<Bytes> out = new java.util.HashSet<>();
    KeyValueStore<Bytes, byte[]> store = driver.getKeyValueStore(
        Topics.PENDING_BY_SERVED_TIME_STORE);
    try (var it = store.all()) {
      while (it.hasNext()) {
        Bytes k = it.next().key;
        if (OutcomeStores.isDueKey(k)) {
          out.add(k);
        }
      }
    }
    return out;
  }

  /**
   * The per-user store against a recount of the pending store: an entry for exactly the users with
   * pending exposures, their number, and a floor at or before the earliest one's served time.
   */
  void assertPerUserCountsMatchPending() {
    Map<String, long[]> expected = new HashMap<>(); // user → {count, earliest served time}
    KeyValueStore<Bytes, byte[]> pending = driver.getKeyValueStore(
        Topics.PENDING_EXPOSURES_STORE);
    try (var it = pending.all()) {
      while (it.hasNext()) {
        Bytes k = it.next().key;
        expected.merge(OutcomeStores.pendingUser(k), new long[] {1, OutcomeStores.servedTime(k)},
            (a, b) -> new long[] {a[0] + b[0], Math.min(a[1], b[1])});
      }
    }
    Map<String, OutcomeStores.UserPending> actual = new HashMap<>();
    KeyValueStore<Bytes, byte[]> perUser = driver.getKeyValueStore(
        Topics.PENDING_PER_USER_STORE);
    try (var it = perUser.all()) {
      while (it.hasNext()) {
        var kv = it.next();
        if (!kv.key.equals(OutcomeStores.PER_USER_COMPLETE)) {
          actual.put(new String(kv.key.get(), StandardCharsets.UTF_8),
              OutcomeStores.userPending(kv.value));
        }
      }
    }
    assertThat(actual.keySet()).isEqualTo(expected.keySet());
    expected.forEach((user, e) -> {
      assertThat(actual.get(user).count()).as("pending of " + user).isEqualTo(e[0]);
      assertThat(actual.get(user).floor()).as("floor of " + user).isLessThanOrEqualTo(e[1]);
    });
  }

  java.util.Set<Bytes> pendingAsIndexKeys() {
    java.util.Set<Bytes> out = new java.util.HashSet<>();
    KeyValueStore<Bytes, byte[]> store = driver.getKeyValueStore(Topics.PENDING_EXPOSURES_STORE);
    try (var it = store.all()) {
      while (it.hasNext()) {
        out.add(OutcomeStores.dueKey(it.next().key));
      }
    }
    return out;
  }

  @Test
  void theServedTimeIndexHoldsExactlyThePendingExposures() {
    SplittableRandom r = new SplittableRandom(8);
    long t = NOW - 30 * 3_600_000L;
    int request = 0;
    int missesBefore = 0;
    for (int round = 0; round < 8; round++) {
      for (int i = 0; i < 60; i++) {
        String user = "u" + r.nextInt(25);
        t += r.nextInt(600_000);
        if (r.nextInt(3) == 0) {
          interact(user, "a", t);
        } else {
          expose(new Exposure("r" + request++, "exp", user, ArmChoice.PERFORMER, "v",
              List.of("a", "b"), t, 1, 10, false, 2, false, null, 0, false));
        }
      }
      time.advance(Duration.ofHours(1));
      driver.advanceWallClockTime(Duration.ofMinutes(1));
      assertThat(indexKeys()).isEqualTo(pendingAsIndexKeys());
      assertPerUserCountsMatchPending();
      // whatever the index leaves pending is within the horizon; the sweep resolved the rest
      for (Bytes k : indexKeys()) {
        assertThat(OutcomeStores.dueTime(k)).isGreaterThanOrEqualTo(time.millis()
            - Duration.ofHours(24).toMillis());
      }
      int misses = (int) aggregates().values().stream().mapToLong(ArmAggregate::resolvedAsMiss)
          .sum();
      assertThat(misses).isGreaterThanOrEqualTo(missesBefore);
      missesBefore = misses;
    }
    assertThat(missesBefore).as("some exposures outlived the horizon").isPositive();
    assertThat(driver.getKeyValueStore(Topics.PENDING_BY_SERVED_TIME_STORE)
        .get(OutcomeStores.DUE_INDEX_COMPLETE)).isNotNull();
    assertThat(driver.getKeyValueStore(Topics.PENDING_PER_USER_STORE)
        .get(OutcomeStores.PER_USER_COMPLETE)).isNotNull();
  }

  @Test
  void exposuresPendingBeforeTheIndexExistedAreSweptAfterAnUpgrade() {
    // a store written by a version without the index: pending exposures, no index entries
    KeyValueStore<Bytes, byte[]> pending = driver.getKeyValueStore(
        Topics.PENDING_EXPOSURES_STORE);
    Exposure old = new Exposure("old", "exp", "u1", ArmChoice.PERFORMER, "v", List.of("a"),
        NOW - Duration.ofHours(25).toMillis(), 1, 10, false, 1, false, null, 0, false);
    Exposure recent = new Exposure("recent", "exp", "u2", ArmChoice.PERFORMER, "v", List.of("a"),
        NOW - Duration.ofHours(1).toMillis(), 1, 10, false, 1, false, null, 0, false);
    for (Exposure e : List.of(old, recent)) {
      pending.put(OutcomeStores.pendingKey(e.userId(), e.timestamp(), e.requestId()),
          OutcomeStores.exposure(e));
    }
    // before the first sweep nothing is counted per user: an interaction reads its user's whole
    // pending range, and resolves what it finds
    Exposure waiting = new Exposure("waiting", "exp", "u3", ArmChoice.PERFORMER, "v",
        List.of("a"), NOW - Duration.ofHours(2).toMillis(), 1, 10, false, 1, false, null, 0,
        false);
    pending.put(OutcomeStores.pendingKey(waiting.userId(), waiting.timestamp(),
        waiting.requestId()), OutcomeStores.exposure(waiting));
    interact("u3", "a", NOW - Duration.ofHours(1).toMillis());
    assertThat(outcomes.readValuesToList().stream().map(v -> JSON.readValue(v,
        ResolvedOutcome.class).requestId()).toList()).containsExactly("waiting");
    driver.advanceWallClockTime(Duration.ofMinutes(1)); // the first sweep builds the index
    List<ResolvedOutcome> resolved = outcomes.readValuesToList().stream()
        .map(v -> JSON.readValue(v, ResolvedOutcome.class)).toList();
    assertThat(resolved).extracting(ResolvedOutcome::requestId).containsExactly("old");
    assertThat(pendingCount()).isEqualTo(1);
    assertThat(indexKeys()).isEqualTo(pendingAsIndexKeys()).hasSize(1);
    assertPerUserCountsMatchPending(); // counted at the first sweep: u2's one exposure
    assertThat(driver.getKeyValueStore(Topics.PENDING_PER_USER_STORE)
        .get(OutcomeStores.PER_USER_COMPLETE)).isNotNull();
    time.advance(Duration.ofHours(24));
    driver.advanceWallClockTime(Duration.ofMinutes(1));
    assertThat(outcomes.readValuesToList().stream().map(v -> JSON.readValue(v,
        ResolvedOutcome.class).requestId()).toList()).containsExactly("recent");
    assertThat(pendingCount()).isZero();
    assertThat(indexKeys()).isEmpty();
    assertPerUserCountsMatchPending();
  }

  @Test
  void stateStaysBoundedHoweverLongTheExperimentRuns() {
    List<Long> sizes = new ArrayList<>();
    long t = NOW - 10_000_000;
    for (int round = 1; round <= 4; round++) {
      for (int i = 0; i < 150; i++) { // (the driver flushes RocksDB after every record: slow)
        String user = "u" + (i % 50);
        expose(new Exposure("r" + round + "-" + i, "exp", user, i % 2 == 0 ? ArmChoice.PERFORMER
            : ArmChoice.SOFTMAX, "v", List.of("a", "b"), t++, 1, 10, false, 2, false, null, 0,
            false));
        interact(user, "a", t++);
      }
      sizes.add(storeSize(Topics.ARM_AGGREGATES_STORE) + storeSize(Topics.PENDING_EXPOSURES_STORE)
          + storeSize(Topics.USER_OUTCOMES_STORE));
    }
    // 150 to 600 exposures: the same number of records (2 aggregates, ≤ 100 user totals)
    assertThat(sizes).containsOnly(sizes.get(0));
    assertThat(sizes.get(0)).isLessThanOrEqualTo(102);
    long total = aggregates().values().stream().mapToLong(ArmAggregate::exposures).sum();
    assertThat(total).isEqualTo(600);
  }

  long storeSize(String name) {
    KeyValueStore<Bytes, byte[]> store = driver.getKeyValueStore(name);
    long n = 0;
    try (var it = store.all()) {
      while (it.hasNext()) {
        it.next();
        n++;
      }
    }
    return n;
  }

  @Test
  void theLiveJoinEqualsAnIndependentOfflineReplayOfTheSameRecords() {
    SplittableRandom r = new SplittableRandom(21);
    List<Exposure> sentExposures = new ArrayList<>();
    List<Interaction> sentInteractions = new ArrayList<>();
    long t = NOW - 30 * 3_600_000L; // 30 h ago: some exposures will outlive the 24 h horizon
    // users who never come back (misses at the sweep), and one who comes back after 25 h (a
    // miss at the interaction)
    for (String silent : List.of("s0", "s1", "s2", "late")) {
      Exposure e = new Exposure("first-" + silent, "exp", silent, ArmChoice.PERFORMER, "v",
          List.of("a"), t++, 1, 10, false, 3, false, null, 0, false);
      expose(e);
      sentExposures.add(e);
    }
    for (int step = 0; step < 600; step++) {
      String user = "u" + r.nextInt(30);
      t += r.nextInt(300_000); // up to 5 min apart
      if (r.nextInt(3) > 0) {
        int group = Integer.parseInt(user.substring(1)) % 4;
        ArmChoice arm = group == 0 ? ArmChoice.SOFTMAX : group == 1 ? ArmChoice.INTERLEAVED
            : ArmChoice.PERFORMER;
        // the interleaved arm: a team per served item (none when it was served degraded)
        List<ArmChoice> teams = arm != ArmChoice.INTERLEAVED || r.nextInt(5) == 0 ? null : List.of(
            ArmChoice.PERFORMER, ArmChoice.SOFTMAX, r.nextBoolean() ? ArmChoice.PERFORMER
                : ArmChoice.SOFTMAX, ArmChoice.SOFTMAX, ArmChoice.PERFORMER);
        Exposure e = new Exposure("q" + step, r.nextBoolean() ? "exp" : "other", user, arm, "v",
            List.of("a", "b", "c", "d", "e"), t, 0.5 + r.nextInt(40) / 10.0, 100 + step,
            r.nextInt(20) == 0, 3, r.nextInt(10) == 0, teams, 0, false);
        expose(e);
        sentExposures.add(e);
        if (r.nextInt(25) == 0) { // now and then a request of the arm fails
          Exposure failed = Exposure.failed("f" + step, e.experiment(), user, arm, t, 3, 3);
          expose(failed);
          sentExposures.add(failed);
        }
      } else {
        String item = List.of("a", "b", "c", "d", "e", "x", "y").get(r.nextInt(7));
        interact(user, item, t);
        sentInteractions.add(new Interaction(user, item, t, EventType.CLICK, user + "-" + t));
      }
    }
    long late = NOW - 30 * 3_600_000L + 25 * 3_600_000L;
    interact("late", "a", late);
    sentInteractions.add(new Interaction("late", "a", late, EventType.CLICK, "late-" + late));
    driver.advanceWallClockTime(Duration.ofMinutes(2)); // a sweep: expired ones become misses
    Map<OutcomeJoin.Key, ArmAggregate> live = aggregates();
    Map<OutcomeJoin.Key, ArmAggregate> replayed = ReplayJoin.replay(sentExposures,
        sentInteractions, Duration.ofHours(24), time.millis());
    assertThat(live.keySet()).isEqualTo(replayed.keySet()).hasSizeGreaterThanOrEqualTo(3);
    long misses = 0;
    long errors = 0;
    for (OutcomeJoin.Key k : live.keySet()) {
      ArmAggregate a = live.get(k);
      ArmAggregate b = replayed.get(k);
      assertThat(a.exposures()).as("%s", k).isEqualTo(b.exposures());
      assertThat(a.degraded()).as("%s", k).isEqualTo(b.degraded());
      assertThat(a.resolvedAsMiss()).as("%s", k).isEqualTo(b.resolvedAsMiss());
      for (var pair : List.of(List.of(a.hits(), b.hits()), List.of(a.ndcg(), b.ndcg()),
          List.of(a.reciprocalRank(), b.reciprocalRank()))) {
        UserMoments x = pair.get(0);
        UserMoments y = pair.get(1);
        assertThat(x.users()).as("%s users", k).isEqualTo(y.users());
        assertThat(x.denominator()).as("%s resolved", k).isEqualTo(y.denominator());
        assertThat(x.ratio()).as("%s ratio", k).isCloseTo(y.ratio(), within(1e-12));
        assertThat(x.ratioVariance()).as("%s variance", k).isCloseTo(y.ratioVariance(),
            within(1e-12));
      }
      assertThat(a.latencyMs(99)).isEqualTo(b.latencyMs(99));
      assertThat(a.preference()).as("%s preference", k).isEqualTo(b.preference());
      assertThat(a.errors()).as("%s errors", k).isEqualTo(b.errors());
      errors += a.errors();
      assertThat(a.credits()).as("%s credits", k).isEqualTo(b.credits());
      misses += a.resolvedAsMiss();
    }
    assertThat(misses).as("the horizon was exercised").isPositive();
    assertThat(errors).as("failed requests were counted").isPositive();
    ArmAggregate il = live.get(new OutcomeJoin.Key("exp", ArmChoice.INTERLEAVED));
    assertThat(il.preference().users()).isEqualTo(il.hits().users());
    assertThat(il.credits()[0] + il.credits()[1]).as("credits were given").isPositive();
    assertThat(il.preference().preferA() + il.preference().preferB()).isPositive();
  }
}
