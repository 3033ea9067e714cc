package dev.reranker.serving;

/**
 * The k best of n scores, best first: higher score first, then lower index (the caller's order).
 *
 * <p>A bounded heap over primitive arrays, O(n log k): a rerank call usually wants the top 10 of a
 * few hundred candidates, and sorting boxed records with a comparator chain was measured as the
 * single largest cost of a call (half of it, at 500 candidates). Scores are compared with
 * {@link Double#compare}, a total order (NaN, which the model never yields, would rank first).
 * {@link #reference} is the plain sort this must agree with.
 */
public final class TopK {
  private TopK() {}

  /**
   * @param scores the scores; entries [0, n) are used
   * @param k how many to return, 0 ≤ k ≤ n
   * @return the indices of the k best, best first
   */
  public static int[] select(double[] scores, int n, int k) {
    if (k < 0 || k > n || n > scores.length) {
      throw new IllegalArgumentException("need 0 ≤ k ≤ n ≤ scores.length, got k=" + k + ", n="
          + n + ", length=" + scores.length);
    }
    int[] heap = new int[k]; // a min-heap by rank: heap[0] is the worst of the best k so far
    int size = 0;
    for (int i = 0; i < n; i++) {
      if (size < k) {
        heap[size] = i;
        up(scores, heap, size++);
      } else if (k > 0 && better(scores, i, heap[0])) {
        heap[0] = i;
        down(scores, heap, 0, size);
      }
    }
    for (int end = size - 1; end > 0; end--) { // heap sort: the worst goes to the back
      int t = heap[0];
      heap[0] = heap[end];
      heap[end] = t;
      down(scores, heap, 0, end);
    }
    return heap;
  }

  /** Whether index a ranks before index b. */
  private static boolean better(double[] s, int a, int b) {
    int c = Double.compare(s[a], s[b]);
    return c > 0 || (c == 0 && a < b);
  }

  private static void up(double[] s, int[] heap, int i) {
    while (i > 0) {
      int parent = (i - 1) >>> 1;
      if (!better(s, heap[parent], heap[i])) {
        break;
      }
      swap(heap, i, parent);
      i = parent;
    }
  }

  private static void down(double[] s, int[] heap, int i, int size) {
    while (true) {
      int worst = i;
      int l = 2 * i + 1;
      int r = l + 1;
      if (l < size && better(s, heap[worst], heap[l])) {
        worst = l;
      }
      if (r < size && better(s, heap[worst], heap[r])) {
        worst = r;
      }
      if (worst == i) {
        return;
      }
      swap(heap, i, worst);
      i = worst;
    }
  }

  private static void swap(int[] a, int i, int j) {
    int t = a[i];
    a[i] = a[j];
    a[j] = t;
  }

  /** The reference: a stable sort of all n by score, descending; the first k. */
  static int[] reference(double[] scores, int n, int k) {
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, (a, b) -> Double.compare(scores[b], scores[a]));
    int[] out = new int[k];
    for (int i = 0; i < k; i++) {
      out[i] = order[i];
    }
    return out;
  }
}
