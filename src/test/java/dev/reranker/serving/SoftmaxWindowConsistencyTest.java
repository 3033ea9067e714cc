package dev.reranker.serving;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.reranker.data.EventType;
import dev.reranker.experiment.ArmChoice;
import dev.reranker.model.Arm;
import dev.reranker.model.Batch;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.state.ActiveModel;
import dev.reranker.state.CachedState;
import dev.reranker.state.InMemoryHistory;
import dev.reranker.state.InMemorySnapshots;
import dev.reranker.state.ModelRegistry;
import dev.reranker.state.StateCache;
import dev.reranker.state.UserStates;
import dev.reranker.testing.TestModels;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What the softmax baseline means over a long history, and that every path computes it: the last W
 * known events, each at its position among the user's known events and with the gap to the known
 * event before it — {@code Batch.Window.lastEvents} over the known events, the window training and
 * offline evaluation ({@code LeaveOneOut}) cut. Checked at 50, 200, 201 and 2,000 events (W = 200)
 * for the stored state built on a cache miss, the state kept current as events arrive (the
 * ingestion's path), and a stateless request that brings the same history.
 */
class SoftmaxWindowConsistencyTest {

  static final int W = 200;

  final ModelArtifacts.TrainedModel softmax = TestModels.model(Arm.SOFTMAX, 4);
  final ModelArtifacts.TrainedModel performer = TestModels.model(Arm.PERFORMER, 3);
  final ExecutorService workers = Executors.newFixedThreadPool(2);

  @AfterEach
  void stop() {
    workers.shutdownNow();
  }

  UserStates states() {
    return new UserStates(
        new ModelRegistry(Map.of(Arm.PERFORMER, new ActiveModel(performer), Arm.SOFTMAX,
        new ActiveModel(softmax))), new StateCache(256L << 20, null, Ticker.systemTicker()),
        Clock.systemUTC(), new UserStates.Settings(1000, Duration.ofHours(1), W, 64),
        null);
  }

  @Test
  void storedIncrementalAndStatelessPathsEncodeTheSameWindow() {
    List<String> candidates = new ArrayList<>();
    for (int i = 0; i < TestModels.ITEMS; i++) {
      candidates.add("i" + i);
    }
    for (int n : new int[] {50, 200, 201, 2000}) {
      SplittableRandom r = new SplittableRandom(n);
      InMemoryHistory history = new InMemoryHistory(10_000);
      UserStates eager = states(); // caught up every few events, as the ingestion does
      UserStates.Session eagerSession = eager.session(history, new InMemorySnapshots());
      List<Reranker.InlineEvent> inline = new ArrayList<>();
      List<Integer> knownItems = new ArrayList<>();
      List<Long> knownTimes = new ArrayList<>();
      long t = 1_700_000_000_000L;
      for (int i = 0; i < n; i++) {
        t += r.nextLong(7_200_000L);
        String item = i % 11 == 5 ? "unknown-" + i : "i" + r.nextInt(TestModels.ITEMS);
        history.append("u", item, t, EventType.VIEW);
        inline.add(new Reranker.InlineEvent(item, t));
        if (!item.startsWith("unknown")) {
          knownItems.add(softmax.items().indexOf(item));
          knownTimes.add(t);
        }
        if (r.nextInt(5) == 0) {
          eagerSession.current("u", Arm.SOFTMAX);
        }
      }
      // the offline definition: the last W of the known events
      Batch.Window window = Batch.Window.lastEvents(
          knownItems.stream().mapToInt(Integer::intValue).toArray(),
          knownTimes.stream().mapToLong(Long::longValue).toArray(), knownItems.size(), W);
      float[] reference = softmax.sequenceModel().forward(Batch.of(List.of(window)), null)
          .userVectors().dup('c').data().asFloat();

      UserStates cold = states();
      CachedState rebuilt = cold.session(history, null).current("u", Arm.SOFTMAX);
      CachedState kept = eagerSession.current("u", Arm.SOFTMAX);
      assertThat(rebuilt.state().position()).isEqualTo(knownItems.size());
      assertThat(kept.state().position()).isEqualTo(knownItems.size());
      assertThat(TestModels.maxDiff(rebuilt.state().userVector(), reference))
          .as("rebuilt on a miss, %d events", n).isLessThan(1e-4);
      assertThat(TestModels.maxDiff(kept.state().userVector(), reference))
          .as("kept current, %d events", n).isLessThan(1e-4);

      // a stateless request with the same history scores like the stored state
      UserStates.Session coldSession = cold.session(history, null);
      Reranker reranker = new Reranker(cold.reader(() -> coldSession), new ItemPopularity(),
          workers);
      long deadline = System.nanoTime() + 10_000_000_000L;
      RerankResult stored = reranker.rerank("u", candidates, candidates.size(), ArmChoice.SOFTMAX,
          deadline, null);
      RerankResult stateless = reranker.rerank("u", candidates, candidates.size(),
          ArmChoice.SOFTMAX,
          deadline, inline);
      assertThat(stateless.items().stream().map(RerankResult.Item::itemId).toList())
          .as("order, %d events", n)
          .isEqualTo(stored.items().stream().map(RerankResult.Item::itemId).toList());
      for (int i = 0; i < stored.items().size(); i++) {
        double a = stored.items().get(i).score();
        double b = stateless.items().get(i).score();
        assertThat(Math.abs(a - b)).as("score of %s, %d events", stored.items().get(i).itemId(),
            n).isLessThan(1e-4 * Math.max(1, Math.abs(a)));
      }
      RerankResult performerStored = reranker.rerank("u", candidates, candidates.size(),
          ArmChoice.PERFORMER, deadline, null);
      RerankResult performerStateless = reranker.rerank("u", candidates, candidates.size(),
          ArmChoice.PERFORMER, deadline, inline);
      assertThat(performerStateless.items().stream().map(RerankResult.Item::itemId).toList())
          .isEqualTo(performerStored.items().stream().map(RerankResult.Item::itemId).toList());
    }
  }
}
