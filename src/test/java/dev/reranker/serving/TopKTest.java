package dev.reranker.serving;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The heap selection against the plain stable sort. */
class TopKTest {

  @Test
  void agreesWithTheStableSortIncludingTies() {
    SplittableRandom r = new SplittableRandom(5);
    for (int trial = 0; trial < 2_000; trial++) {
      int n = r.nextInt(0, 300);
      double[] scores = new double[n + r.nextInt(3)]; // longer than n: the tail is ignored
      int distinct = 1 + r.nextInt(20); // few distinct values: many ties
      for (int i = 0; i < scores.length; i++) {
        scores[i] = r.nextBoolean() ? r.nextInt(distinct) : r.nextDouble() * 4 - 2;
      }
      int k = n == 0 ? 0 : r.nextInt(0, n + 1);
      assertArrayEquals(TopK.reference(scores, n, k), TopK.select(scores, n, k),
          "n=" + n + ", k=" + k);
    }
  }

  @Test
  void allOfThemIsAFullStableSort() {
    double[] scores = {1, 3, 3, -1, 3, 0};
    assertArrayEquals(new int[] {1, 2, 4, 0, 5, 3}, TopK.select(scores, 6, 6));
    assertArrayEquals(new int[] {1, 2}, TopK.select(scores, 6, 2));
    assertArrayEquals(new int[] {}, TopK.select(scores, 6, 0));
  }

  @Test
  void rejectsImpossibleSizes() {
    assertThrows(IllegalArgumentException.class, () -> TopK.select(new double[3], 3, 4));
    assertThrows(IllegalArgumentException.class, () -> TopK.select(new double[3], 4, 1));
    assertThrows(IllegalArgumentException.class, () -> TopK.select(new double[3], 3, -1));
  }
}
