package dev.reranker.state;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.reranker.data.EventType;
import dev.reranker.model.Arm;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.testing.TestModels;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The state logic over in-memory histories: exact catch-up, snapshots, partial rebuilds, weights. */
class UserStatesTest {

  final ModelArtifacts.TrainedModel performer = TestModels.model(Arm.PERFORMER, 3);
  final ModelArtifacts.TrainedModel softmax = TestModels.model(Arm.SOFTMAX, 4);

  UserStates.Session states(InMemoryHistory history, SnapshotStore snapshots,
      int batchThreshold, int historyLimit, long snapshotEvery) {
    UserStates shared = new UserStates(
        new ModelRegistry(Map.of(Arm.PERFORMER, new ActiveModel(performer),
        Arm.SOFTMAX, new ActiveModel(softmax))), new StateCache(64L << 20, null,
        Ticker.systemTicker()), Clock.systemUTC(), new UserStates.Settings(snapshotEvery,
        Duration.ofHours(1), 20, batchThreshold), null);
    cache = shared.cache();
    return shared.session(history, snapshots);
  }

  StateCache cache;

  /** Appends n events (every 7th an unknown item) and returns the known ones in order. */
  static List<String[]> feed(InMemoryHistory history, String user, int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    List<String[]> known = new ArrayList<>();
    long t = 1_700_000_000_000L + seed * 1000;
    for (int i = 0; i < n; i++) {
      t += r.nextLong(3_600_000L);
      String item = i % 7 == 3 ? "unknown-" + i : "i" + r.nextInt(TestModels.ITEMS);
      history.append(user, item, t, EventType.VIEW);
      if (!item.startsWith("unknown")) {
        known.add(new String[] {item, Long.toString(t)});
      }
    }
    return known;
  }

  static float[] expected(ModelArtifacts.TrainedModel model, List<String[]> known) {
    return TestModels.batchUserVector(model, known.stream().map(k -> k[0]).toList(),
        known.stream().map(k -> Long.parseLong(k[1])).toList());
  }

  @Test
  void catchUpEqualsBatchEncodingInBothModesAndIncrementally() {
    for (int threshold : new int[] {0, 1_000_000}) { // always batched, never batched
      InMemoryHistory history = new InMemoryHistory(10_000);
      UserStates.Session states = states(history, new InMemorySnapshots(), threshold, 10_000, 1000);
      List<String> users = List.of("a", "b", "c", "d");
      List<List<String[]>> known = new ArrayList<>();
      for (int u = 0; u < users.size(); u++) {
        known.add(feed(history, users.get(u), 30 + 25 * u, u));
      }
      states.catchUp(users, Arm.PERFORMER);
      for (int u = 0; u < users.size(); u++) {
        CachedState s = states.current(users.get(u), Arm.PERFORMER);
        assertThat(s.historyPosition()).isEqualTo(30 + 25 * u);
        assertThat(TestModels.maxDiff(s.state().userVector(), expected(performer, known.get(u))))
            .as("threshold %d user %d", threshold, u).isLessThan(1e-4);
      }
      // more events: the lazy path folds only what is new
      List<String[]> more = feed(history, "b", 9, 99);
      known.get(1).addAll(more);
      CachedState b = states.current("b", Arm.PERFORMER);
      assertThat(b.historyPosition()).isEqualTo(55 + 9);
      assertThat(TestModels.maxDiff(b.state().userVector(), expected(performer, known.get(1))))
          .isLessThan(1e-4);
    }
  }

  @Test
  void onlyCachedNearlyCurrentStatesAreCheapAndTheyComeBackExact() {
    InMemoryHistory history = new InMemoryHistory(10_000);
    UserStates.Session states = states(history, new InMemorySnapshots(), 1_000_000, 10_000, 1000);
    assertThat(states.currentIfCheap("nobody", Arm.PERFORMER, 8))
        .isEqualTo(StateReader.Cheap.NO_HISTORY);
    List<String[]> known = feed(history, "a", 40, 1);
    // not cached yet: a rebuild, which belongs under a deadline
    assertThat(states.currentIfCheap("a", Arm.PERFORMER, 8)).isEqualTo(StateReader.Cheap.NOT_CHEAP);
    assertThat(states.currentIfCheap("a", Arm.SOFTMAX, 8)).isEqualTo(StateReader.Cheap.NOT_CHEAP);
    states.current("a", Arm.PERFORMER);
    states.current("a", Arm.SOFTMAX);
    StateView quick = current(states.currentIfCheap("a", Arm.PERFORMER, 8));
    assertThat(quick.historyPosition()).isEqualTo(40);
    assertThat(states.currentIfCheap("a", Arm.SOFTMAX, 8))
        .isInstanceOf(StateReader.Cheap.Current.class);
    // a few new events: the performer folds them on the spot (exactly); the softmax arm would
    // re-encode its window, so it is not cheap
    known.addAll(feed(history, "a", 8, 2));
    assertThat(states.currentIfCheap("a", Arm.SOFTMAX, 8)).isEqualTo(StateReader.Cheap.NOT_CHEAP);
    quick = current(states.currentIfCheap("a", Arm.PERFORMER, 8));
    assertThat(quick.historyPosition()).isEqualTo(48);
    assertThat(TestModels.maxDiff(quick.userVector(), expected(performer, known)))
        .isLessThan(1e-4);
    // more than the limit behind: not cheap
    feed(history, "a", 9, 3);
    assertThat(states.currentIfCheap("a", Arm.PERFORMER, 8)).isEqualTo(StateReader.Cheap.NOT_CHEAP);
    // evicted: a rebuild again
    states.current("a", Arm.PERFORMER);
    cache.invalidateAll();
    assertThat(states.currentIfCheap("a", Arm.PERFORMER, 8)).isEqualTo(StateReader.Cheap.NOT_CHEAP);
  }

  /**
   * A request never waits for an entry another thread holds: the stream thread can hold one while
   * it waits on Kafka (the broker-kill fault test saw a request wait past the client's 10 s).
   */
  @Test
  void aLockedEntryIsNotCheapAndTheCheapPathDoesNotWaitForIt() throws Exception {
    InMemoryHistory history = new InMemoryHistory(10_000);
    UserStates.Session states = states(history, new InMemorySnapshots(), 1_000_000, 10_000, 1000);
    feed(history, "a", 20, 1);
    CachedState entry = states.current("a", Arm.PERFORMER);
    java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    Thread holder = new Thread(() -> {
      entry.lock().lock();
      try {
        held.countDown();
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        entry.lock().unlock();
      }
    });
    holder.start();
    held.await();
    try {
      StateReader.Cheap quick = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
          Duration.ofSeconds(5), () -> states.currentIfCheap("a", Arm.PERFORMER, 8));
      assertThat(quick).isEqualTo(StateReader.Cheap.NOT_CHEAP);
    } finally {
      release.countDown();
      holder.join();
    }
    assertThat(states.currentIfCheap("a", Arm.PERFORMER, 8))
        .isInstanceOf(StateReader.Cheap.Current.class);
  }

  /** A snapshot is written without the entry's lock: a slow store write does not hold readers. */
  @Test
  void aSnapshotBeingWrittenDoesNotHoldTheEntry() throws Exception {
    InMemoryHistory history = new InMemoryHistory(10_000);
    java.util.concurrent.CountDownLatch writing = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    InMemorySnapshots stored = new InMemorySnapshots();
    SnapshotStore slow = new SnapshotStore() {
      @Override
      public java.util.Optional<Snapshot> load(String userId, String modelVersion) {
        return stored.load(userId, modelVersion);
      }

      @Override
      public void save(String userId, String modelVersion, Snapshot snapshot) {
        writing.countDown();
        try {
          release.await(); // as a changelog write waiting for the producer's metadata
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        stored.save(userId, modelVersion, snapshot);
      }
    };
    UserStates.Session states = states(history, slow, 1_000_000, 10_000, 1000);
    feed(history, "a", 20, 1);
    states.current("a", Arm.PERFORMER);
    Thread snapshotter = new Thread(() -> states.snapshotDue(List.of("a"), true));
    snapshotter.start();
    writing.await();
    try {
      StateReader.Cheap quick = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
          Duration.ofSeconds(5), () -> states.currentIfCheap("a", Arm.PERFORMER, 8));
      assertThat(current(quick).historyPosition()).isEqualTo(20);
    } finally {
      release.countDown();
      snapshotter.join();
    }
    assertThat(stored.size()).isEqualTo(1);
    assertThat(states.snapshotDue(List.of("a"), true)).as("nothing unsaved any more").isEmpty();
  }

  @Test
  void softmaxStateIsTheEncodingOfTheLastWindow() {
    InMemoryHistory history = new InMemoryHistory(10_000);
    UserStates.Session states = states(history, null, 64, 10_000, 1000);
    List<String[]> known = new ArrayList<>();
    for (int i = 0; i < 50; i++) { // known items only, so positions are exact
      long t = 1_000_000L * (i + 1);
      history.append("u", "i" + (i % TestModels.ITEMS), t, EventType.CLICK);
      known.add(new String[] {"i" + (i % TestModels.ITEMS), Long.toString(t)});
    }
    CachedState s = states.current("u", Arm.SOFTMAX);
    List<String[]> last = known.subList(30, 50); // W = 20
    float[] reference = TestModels.batchUserVector(softmax, last.stream().map(k -> k[0]).toList(),
        last.stream().map(k -> Long.parseLong(k[1])).toList(), 30, Long.parseLong(known.get(29)[1]));
    assertThat(TestModels.maxDiff(s.state().userVector(), reference)).isLessThan(1e-5);
    assertThat(s.state().position()).isEqualTo(50);
  }

  @Test
  void snapshotsRestoreTheWholeHistoryAfterRetentionDroppedIt() {
    InMemoryHistory history = new InMemoryHistory(100);
    InMemorySnapshots snapshots = new InMemorySnapshots();
    UserStates.Session states = states(history, snapshots, 64, 100, 40);
    List<String[]> known = new ArrayList<>();
    for (int round = 0; round < 30; round++) { // 600 events, retention 100
      known.addAll(feed(history, "long", 20, 1000 + round));
      states.catchUp(List.of("long"), Arm.PERFORMER);
      states.snapshotDue(List.of("long"), false);
    }
    assertThat(history.extent("long").first()).isEqualTo(500);
    float[] full = expected(performer, known);
    assertThat(TestModels.maxDiff(states.current("long", Arm.PERFORMER).state().userVector(),
        full)).isLessThan(1e-4);

    // a restart: the cache is gone; snapshot + retained events give the same state
    cache.invalidateAll();
    CachedState restored = states.current("long", Arm.PERFORMER);
    assertThat(restored.partial()).isFalse();
    assertThat(TestModels.maxDiff(restored.state().userVector(), full)).isLessThan(1e-4);

    // without snapshots the retained events are all that can be encoded: flagged partial
    UserStates.Session noSnapshots = states(history, new InMemorySnapshots(), 64, 100, 40);
    assertThat(noSnapshots.current("long", Arm.PERFORMER).partial()).isTrue();
  }

  @Test
  void entriesWeighTheirExactBytesAndTheSoftmaxArmCostsMore() {
    InMemoryHistory history = new InMemoryHistory(10_000);
    UserStates.Session states = states(history, null, 64, 10_000, 1000);
    for (int u = 0; u < 10; u++) {
      feed(history, "user" + u, 100, u);
    }
    List<String> users = java.util.stream.IntStream.range(0, 10).mapToObj(u -> "user" + u)
        .toList();
    states.catchUp(users, Arm.PERFORMER);
    states.catchUp(users, Arm.SOFTMAX);
    cache.cleanUp(); // Caffeine applies weights in its maintenance cycle
    Map<Arm, Long> bytes = cache.bytesByArm();
    long performerEach = states.current("user0", Arm.PERFORMER).byteSize();
    assertThat(bytes.get(Arm.PERFORMER)).isEqualTo(10 * performerEach);
    // softmax: 20 events × 2 layers × 2 heads × (16 + 16) floats of KV cache per user, plus headers
    assertThat(bytes.get(Arm.SOFTMAX)).isGreaterThan(10L * 20 * 2 * 2 * 32 * 4);
    assertThat(cache.weightedSize()).isEqualTo(bytes.get(Arm.PERFORMER)
        + bytes.get(Arm.SOFTMAX) + 20L * StateCache.ENTRY_OVERHEAD);
  }

  @Test
  void aStateThatFoldedAnEventTwiceIsDroppedAndRebuiltNeverServed() {
    io.micrometer.core.instrument.simple.SimpleMeterRegistry registry =
        new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    UserStates shared = new UserStates(
        new ModelRegistry(Map.of(Arm.PERFORMER, new ActiveModel(performer))),
        new StateCache(64L << 20, null, Ticker.systemTicker()), Clock.systemUTC(),
        new UserStates.Settings(1000, Duration.ofHours(1), 20, 64), registry);
    InMemoryHistory history = new InMemoryHistory(10_000);
    UserStates.Session states = shared.session(history, null);
    List<String[]> known = feed(history, "a", 30, 7);
    CachedState first = states.current("a", Arm.PERFORMER);
    // what the race did: an event folded a second time into the cached state
    first.lock().lock();
    try {
      new ActiveModel(performer).encoder().fold(first.state(), 3, 1_800_000_000_000L);
    } finally {
      first.lock().unlock();
    }
    known.addAll(feed(history, "a", 5, 8));
    CachedState served = states.current("a", Arm.PERFORMER);
    assertThat(served).isNotSameAs(first);
    assertThat(first.retired()).isTrue();
    assertThat(served.state().position()).isEqualTo(known.size());
    assertThat(TestModels.maxDiff(served.state().userVector(), expected(performer, known)))
        .isLessThan(1e-4);
    assertThat(registry.get("reranker.state.invariant.violations").counter().count())
        .isEqualTo(1.0);
    assertThat(shared.cache().getIfPresent(new StateKey("a", Arm.PERFORMER))).isSameAs(served);
  }

  /** The state a cheap catch-up returned (fails if it was not {@code Current}). */
  static StateView current(StateReader.Cheap quick) {
    assertThat(quick).isInstanceOf(StateReader.Cheap.Current.class);
    return ((StateReader.Cheap.Current) quick).view();
  }
}
