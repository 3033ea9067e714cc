package dev.reranker.serving;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.reranker.data.EventType;
import dev.reranker.experiment.ArmChoice;
import dev.reranker.model.Arm;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.state.ActiveModel;
import dev.reranker.state.InMemoryHistory;
import dev.reranker.state.ModelRegistry;
import dev.reranker.state.StateCache;
import dev.reranker.state.StateReader;
import dev.reranker.state.StateUnavailableException;
import dev.reranker.state.StateView;
import dev.reranker.state.UserStates;
import dev.reranker.testing.TestModels;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The reranker on its own: no Spring, no HTTP, no Kafka — the state engine over an in-memory
 * history behind the same read API the service uses. Scores, ordering rules, cold start, unknown
 * items, the deadline and unavailable stores.
 */
class RerankerTest {

  final ModelArtifacts.TrainedModel performer = TestModels.model(Arm.PERFORMER, 3);
  final ModelArtifacts.TrainedModel softmax = TestModels.model(Arm.SOFTMAX, 4);
  final InMemoryHistory history = new InMemoryHistory(10_000);
  final UserStates states = new UserStates(new ModelRegistry(Map.of(Arm.PERFORMER,
      new ActiveModel(performer), Arm.SOFTMAX, new ActiveModel(softmax))),
      new StateCache(64L << 20, null, Ticker.systemTicker()), Clock.systemUTC(),
      new UserStates.Settings(1000, Duration.ofHours(1), 20, 64), null);
  final ItemPopularity popularity = new ItemPopularity();
  final ExecutorService workers = Executors.newFixedThreadPool(2);
  final Reranker reranker = new Reranker(states.reader(() -> states.session(history, null)),
      popularity, workers);

  @AfterEach
  void stop() {
    workers.shutdownNow();
  }

  private static long far() {
    return System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
  }

  private List<String> seen(String user, int n) {
    List<String> items = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String item = "i" + ((i * 7) % TestModels.ITEMS);
      history.append(user, item, 1_000L * (i + 1), EventType.VIEW);
      items.add(item);
    }
    return items;
  }

  @Test
  void knownCandidatesAreOrderedByTheModelsScoreOfTheBatchEncodedHistory() {
    List<String> items = seen("u", 30);
    List<Long> times = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      times.add(1_000L * (i + 1));
    }
    float[] user = TestModels.batchUserVector(performer, items, times);
    List<String> candidates = List.of("i1", "i5", "i9", "i13", "i22", "i40", "i59");
    RerankResult r = reranker.rerank("u", candidates, candidates.size(), ArmChoice.PERFORMER,
        far(), null);
    assertThat(r.arm()).isEqualTo(ArmChoice.PERFORMER);
    assertThat(r.modelVersion()).isEqualTo(performer.version());
    assertThat(r.statePosition()).isEqualTo(30);
    assertThat(r.degraded()).isFalse();
    assertThat(r.coldStart()).isFalse();
    List<String> expected = candidates.stream().sorted((a, b) -> Float.compare(
        performer.plainWeights().score(user, performer.items().indexOf(b)),
        performer.plainWeights().score(user, performer.items().indexOf(a)))).toList();
    assertThat(r.items().stream().map(RerankResult.Item::itemId).toList()).isEqualTo(expected);
    for (RerankResult.Item item : r.items()) {
      double want = performer.plainWeights().score(user, performer.items().indexOf(item.itemId()));
      assertThat(item.score()).isCloseTo(want, org.assertj.core.data.Offset.offset(1e-4));
      assertThat(item.fallback()).isFalse();
    }
    assertThat(r.items()).extracting(RerankResult.Item::rank).containsExactly(1, 2, 3, 4, 5, 6, 7);
  }

  @Test
  void unknownCandidatesFollowTheKnownOnesByPopularityAndKCutsTheList() {
    seen("u", 10);
    popularity.record("new-b");
    popularity.record("new-b");
    popularity.record("new-a");
    List<String> candidates = List.of("new-a", "i3", "new-b", "new-c", "i4");
    RerankResult r = reranker.rerank("u", candidates, 4, ArmChoice.SOFTMAX, far(), null);
    assertThat(r.items()).hasSize(4);
    assertThat(r.items().subList(0, 2)).extracting(RerankResult.Item::itemId)
        .containsExactlyInAnyOrder("i3", "i4");
    assertThat(r.items().subList(0, 2)).noneMatch(RerankResult.Item::fallback);
    // then by popularity: new-b (2), new-a (1); new-c (0) is cut by k
    assertThat(r.items().subList(2, 4)).extracting(RerankResult.Item::itemId)
        .containsExactly("new-b", "new-a");
    assertThat(r.items().subList(2, 4)).allMatch(RerankResult.Item::fallback);
  }

  @Test
  void aUserWithoutHistoryGetsThePopularityOrderAsColdStart() {
    popularity.record("i2");
    RerankResult r = reranker.rerank("nobody", List.of("i1", "i2", "i3"), 3,
        ArmChoice.PERFORMER, far(), null);
    assertThat(r.coldStart()).isTrue();
    assertThat(r.degraded()).isFalse();
    assertThat(r.modelVersion()).isNull();
    // the popular one first; ties keep the caller's order
    assertThat(r.items()).extracting(RerankResult.Item::itemId).containsExactly("i2", "i1", "i3");
    assertThat(r.items()).allMatch(RerankResult.Item::fallback);
  }

  @Test
  void aHistoryOfUnknownItemsOnlyIsAColdStartToo() {
    history.append("u", "not-in-the-model", 1_000, EventType.VIEW);
    RerankResult r = reranker.rerank("u", List.of("i1", "i2"), 2, ArmChoice.PERFORMER, far(),
        null);
    assertThat(r.coldStart()).isTrue();
  }

  @Test
  void theFallbackArmServesPopularityWithoutReadingAnyState() {
    seen("u", 5);
    popularity.record("i9");
    StateReader untouchable = new StateReader() { // any read fails the test
      @Override
      public ModelRegistry models() {
        throw new AssertionError("the fallback arm read the models");
      }

      @Override
      public int softmaxWindow() {
        throw new AssertionError("the fallback arm read the window");
      }

      @Override
      public Optional<StateView> read(String userId, Arm arm) {
        throw new AssertionError("the fallback arm read a state");
      }

      @Override
      public Cheap readIfCheap(String userId, Arm arm) {
        throw new AssertionError("the fallback arm read a state");
      }
    };
    RerankResult r = new Reranker(untouchable, popularity, workers).rerank("u",
        List.of("i1", "i9"), 2, ArmChoice.FALLBACK, far(), null);
    assertThat(r.arm()).isEqualTo(ArmChoice.FALLBACK);
    assertThat(r.items()).extracting(RerankResult.Item::itemId).containsExactly("i9", "i1");
    assertThat(r.coldStart()).isFalse();
    assertThat(r.degraded()).isFalse();
  }

  @Test
  void aStatelessRequestScoresLikeTheStoredHistory() {
    List<String> items = seen("u", 40);
    List<Reranker.InlineEvent> inline = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      inline.add(new Reranker.InlineEvent(items.get(i), 1_000L * (i + 1)));
    }
    List<String> candidates = List.of("i0", "i7", "i14", "i21", "i30", "i45");
    for (ArmChoice arm : List.of(ArmChoice.PERFORMER, ArmChoice.SOFTMAX)) {
      RerankResult stored = reranker.rerank("u", candidates, 6, arm, far(), null);
      RerankResult stateless = reranker.rerank("someone-else", candidates, 6, arm, far(),
          inline);
      assertThat(stateless.items()).extracting(RerankResult.Item::itemId).as(arm.wireName())
          .isEqualTo(stored.items().stream().map(RerankResult.Item::itemId).toList());
      for (int i = 0; i < 6; i++) {
        assertThat(stateless.items().get(i).score()).isCloseTo(stored.items().get(i).score(),
            org.assertj.core.data.Offset.offset(1e-4));
      }
    }
  }

  @Test
  void aStateStepPastTheDeadlineServesTheFallbackDegradedAndWarmsTheCacheMeanwhile()
      throws Exception {
    seen("u", 300); // a cold cache miss: a rebuild of 300 events, not cheap
    CountDownLatch release = new CountDownLatch(1);
    // both workers busy: the rebuild cannot even start before the deadline
    workers.submit(() -> {
      release.await();
      return null;
    });
    workers.submit(() -> {
      release.await();
      return null;
    });
    RerankResult r = reranker.rerank("u", List.of("i1", "i2"), 2, ArmChoice.PERFORMER,
        System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50), null);
    assertThat(r.degraded()).isTrue();
    assertThat(r.arm()).isEqualTo(ArmChoice.PERFORMER);
    assertThat(r.items()).allMatch(RerankResult.Item::fallback);
    release.countDown();
    // the abandoned rebuild still runs and leaves the state cached: the next request is cheap
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() ->
        states.cache().getIfPresent(new dev.reranker.state.StateKey("u", Arm.PERFORMER)) != null);
    RerankResult next = reranker.rerank("u", List.of("i1", "i2"), 2, ArmChoice.PERFORMER,
        System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50), null);
    assertThat(next.degraded()).isFalse();
    assertThat(next.statePosition()).isEqualTo(300);
  }

  @Test
  void unreadableStoresServeTheFallbackDegraded() {
    StateReader down = new StateReader() {
      @Override
      public ModelRegistry models() {
        return states.models();
      }

      @Override
      public int softmaxWindow() {
        return 20;
      }

      @Override
      public Optional<StateView> read(String userId, Arm arm) {
        throw new StateUnavailableException("rebalancing", null);
      }

      @Override
      public Cheap readIfCheap(String userId, Arm arm) {
        throw new StateUnavailableException("rebalancing", null);
      }
    };
    RerankResult r = new Reranker(down, popularity, workers).rerank("u", List.of("i1"), 1,
        ArmChoice.SOFTMAX, far(), null);
    assertThat(r.degraded()).isTrue();
    assertThat(r.coldStart()).isFalse();
    assertThat(r.arm()).isEqualTo(ArmChoice.SOFTMAX);
  }

  @Test
  void aRequestThatFailsAfterAssignmentIsPublishedAsTheArmsError() {
    StateReader broken = new StateReader() {
      @Override
      public ModelRegistry models() {
        return states.models();
      }

      @Override
      public int softmaxWindow() {
        return 20;
      }

      @Override
      public Optional<StateView> read(String userId, Arm arm) {
        throw new IllegalStateException("a corrupt state");
      }

      @Override
      public Cheap readIfCheap(String userId, Arm arm) {
        throw new IllegalStateException("a corrupt state");
      }
    };
    List<dev.reranker.experiment.Exposure> published = new ArrayList<>();
    dev.reranker.experiment.ExperimentRegistry experiments =
        new dev.reranker.experiment.ExperimentRegistry(List.of(
            dev.reranker.experiment.Experiment.create("all-softmax", null,
                Map.of(ArmChoice.SOFTMAX, 1.0), false, 5)), "all-softmax");
    RerankService service = new RerankService(new Reranker(broken, popularity, workers),
        experiments, new dev.reranker.experiment.ShadowAgreement(), published::add,
        new io.micrometer.core.instrument.simple.SimpleMeterRegistry(), Duration.ofSeconds(5),
        Clock.systemUTC());
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> service.rerank(
        new RerankApi.RerankRequest("u", List.of("i1", "i2"), 2, null, null), null))
        .hasMessageContaining("a corrupt state");
    assertThat(published).singleElement().satisfies(e -> {
      assertThat(e.error()).isTrue();
      assertThat(e.arm()).isEqualTo(ArmChoice.SOFTMAX);
      assertThat(e.served()).isEmpty();
      assertThat(e.experiment()).isEqualTo("all-softmax");
    });
  }
}
