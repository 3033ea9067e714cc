package dev.reranker.state;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.reranker.data.EventType;
import dev.reranker.model.Arm;
import dev.reranker.model.Batch;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.testing.Seeds;
import dev.reranker.testing.TestModels;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The fold's exactness as a property: for random histories (unknown items, out-of-order and equal
 * timestamps, bursts) caught up at random points, with random evictions (rebuilds from snapshots)
 * and both fold modes, the performer state equals the batch encoding of the known events and the
 * softmax state equals the batch encoding of the last W known events, within 1e-4, and every state
 * has folded exactly the known events before its position.
 */
class FoldExactnessPropertyTest {

  final ModelArtifacts.TrainedModel performer = TestModels.model(Arm.PERFORMER, 31);
  final ModelArtifacts.TrainedModel softmax = TestModels.model(Arm.SOFTMAX, 32);

  @Test
  void incrementalEqualsBatchForRandomHistoriesAndCatchUpPoints() throws Exception {
    Seeds.forAll("FoldExactnessPropertyTest", 60, (r, i) -> {
      int w = 1 + r.nextInt(30);
      UserStates states = new UserStates(
          new ModelRegistry(Map.of(Arm.PERFORMER, new ActiveModel(performer),
          Arm.SOFTMAX, new ActiveModel(softmax))), new StateCache(64L << 20, null,
          Ticker.systemTicker()), Clock.systemUTC(), new UserStates.Settings(
          1 + r.nextInt(40), Duration.ofHours(1), w, r.nextBoolean() ? 0 : 1_000_000),
          null);
      InMemoryHistory history = new InMemoryHistory(10_000);
      UserStates.Session session = states.session(history, new InMemorySnapshots());
      int n = 1 + r.nextInt(300);
      List<Integer> items = new ArrayList<>();
      List<Long> times = new ArrayList<>();
      long t = r.nextLong(1L << 40);
      for (int e = 0; e < n; e++) {
        t += switch (r.nextInt(4)) {
          case 0 -> 0; // same millisecond
          case 1 -> -r.nextLong(100_000); // a late event
          default -> r.nextLong(86_400_000L);
        };
        t = Math.max(0, t);
        boolean known = r.nextInt(6) > 0;
        String item = known ? "i" + r.nextInt(TestModels.ITEMS) : "unknown-" + r.nextInt(5);
        history.append("u", item, t, EventType.VIEW);
        if (known) {
          items.add(performer.items().indexOf(item));
          times.add(t);
        }
        switch (r.nextInt(8)) {
          case 0 -> session.current("u", Arm.PERFORMER);
          case 1 -> session.current("u", Arm.SOFTMAX);
          case 2 -> session.snapshotDue(List.of("u"), r.nextBoolean());
          case 3 -> states.cache().invalidate(new StateKey("u", r.nextBoolean() ? Arm.PERFORMER
              : Arm.SOFTMAX));
          default -> { }
        }
        CachedState any = states.cache().getIfPresent(new StateKey("u", Arm.PERFORMER));
        if (any != null) {
          assertThat(any.consistent()).isTrue();
        }
      }
      int[] all = items.stream().mapToInt(Integer::intValue).toArray();
      long[] allTimes = times.stream().mapToLong(Long::longValue).toArray();
      CachedState p = session.current("u", Arm.PERFORMER);
      CachedState s = session.current("u", Arm.SOFTMAX);
      assertThat(p.state().position()).isEqualTo(all.length);
      assertThat(s.state().position()).isEqualTo(all.length);
      if (all.length == 0) {
        return;
      }
      float[] batch = performer.sequenceModel().forward(Batch.of(List.of(Batch.Window.lastEvents(
          all, allTimes, all.length, all.length))), null).userVectors().dup('c').data().asFloat();
      assertThat(TestModels.maxDiff(p.state().userVector(), batch))
          .as("performer, %d events (%d known)", n, all.length).isLessThan(1e-4);
      float[] window = softmax.sequenceModel().forward(Batch.of(List.of(Batch.Window.lastEvents(
          all, allTimes, all.length, w))), null).userVectors().dup('c').data().asFloat();
      assertThat(TestModels.maxDiff(s.state().userVector(), window))
          .as("softmax, W %d, %d events (%d known)", w, n, all.length).isLessThan(1e-4);
    });
  }
}
