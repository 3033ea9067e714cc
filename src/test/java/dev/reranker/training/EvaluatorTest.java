package dev.reranker.training;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reranker.model.Batch;
import dev.reranker.model.OrderSignal;
import java.util.List;
import org.junit.jupiter.api.Test;

class EvaluatorTest {

  static Evaluator.Case user(int target, int[] history) {
    long[] times = new long[history.length];
    return new Evaluator.Case("u", new Batch.Window(history, times, 0, OrderSignal.NO_PREVIOUS),
        target, history, history);
  }

  @Test
  void fullRankExcludesHistoryAndBreaksTiesPessimistically() {
    float[] scores = {5, 9, 3, 5, 7, 5};
    boolean[] excluded = new boolean[scores.length];
    // target 0 (score 5): item 1 (9) is history → excluded; 4 (7) above; 3 and 5 tie → counted above
    assertThat(Evaluator.fullRank(scores, 0, new int[] {1}, excluded)).isEqualTo(4);
    assertThat(Evaluator.fullRank(scores, 1, new int[] {}, excluded)).isEqualTo(1);
    // a repeat: the target itself is in the history but still ranked
    assertThat(Evaluator.fullRank(scores, 4, new int[] {4, 1}, excluded)).isEqualTo(1);
    assertThat(excluded).containsOnly(false); // the scratch mask is cleaned up
  }

  @Test
  void constantScoresGetNoCredit() {
    List<Evaluator.Case> cases = List.of(user(0, new int[] {1}), user(2, new int[] {3}));
    Evaluator.Metrics m = Evaluator.evaluate(Evaluator.popularityScorer(new long[50]), cases, 50,
        10, 1);
    assertThat(m.hr()).isZero();
    assertThat(m.sampledHr()).isZero();
  }

  @Test
  void metricsOfKnownRanks() {
    long[] counts = new long[30];
    for (int i = 0; i < counts.length; i++) {
      counts[i] = 100 - i; // item i has rank i+1 when nothing is excluded
    }
    List<Evaluator.Case> cases = List.of(user(0, new int[] {20}), user(2, new int[] {0, 21}),
        user(15, new int[] {25}));
    Evaluator.Metrics m = Evaluator.evaluate(Evaluator.popularityScorer(counts), cases, 30, 2, 7);
    // ranks: 1; 2 (item 0 excluded); 16 → HR = 2/3, NDCG = (1 + 1/log2(3)) / 3
    assertThat(m.hr()).isCloseTo(2.0 / 3, org.assertj.core.data.Offset.offset(1e-12));
    assertThat(m.ndcg()).isCloseTo((1 + 1 / (Math.log(3) / Math.log(2))) / 3,
        org.assertj.core.data.Offset.offset(1e-12));
    // sampled: 100 negatives wanted, only 28–29 untouched items exist: all of them are drawn
    assertThat(m.sampledHr()).isCloseTo(2.0 / 3, org.assertj.core.data.Offset.offset(1e-12));
    Evaluator.Metrics again = Evaluator.evaluate(Evaluator.popularityScorer(counts), cases, 30, 2,
        7);
    assertThat(again).isEqualTo(m);
  }
}
