package dev.reranker.serving;

import dev.reranker.data.Ids;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Checks a rerank request, naming the first field that is wrong. */
final class RequestValidation {
  private RequestValidation() {}

  static void check(RerankApi.RerankRequest r) {
    if (r == null) {
      throw ApiProblem.invalid("body", "request body is required");
    }
    id("userId", r.userId());
    List<String> candidates = r.candidates();
    if (candidates == null) {
      throw ApiProblem.invalid("candidates", "candidates is required");
    }
    if (candidates.isEmpty()) {
      throw ApiProblem.invalid("candidates", "candidates must hold at least one item id");
    }
    if (candidates.size() > RerankApi.MAX_CANDIDATES) {
      throw ApiProblem.invalid("candidates", "candidates holds " + candidates.size()
          + " items; the limit is " + RerankApi.MAX_CANDIDATES);
    }
    // the first candidate that is wrong: a bad id, or a duplicate of an earlier one
    int bad = candidates.size();
    for (int i = 0; i < candidates.size(); i++) {
      if (!isId(candidates.get(i))) { // the field name is built only for the error
        bad = i;
        break;
      }
    }
    int duplicate = firstDuplicate(candidates.subList(0, bad));
    if (duplicate >= 0) {
      throw ApiProblem.invalid("candidates[" + duplicate + "]", "duplicate candidate '"
          + ApiProblem.echo(candidates.get(duplicate)) + "'");
    }
    if (bad < candidates.size()) {
      id("candidates[" + bad + "]", candidates.get(bad));
    }
    if (r.k() != null && (r.k() < 1 || r.k() > RerankApi.MAX_CANDIDATES)) {
      throw ApiProblem.invalid("k", "k must be in [1, " + RerankApi.MAX_CANDIDATES
          + "], got " + r.k());
    }
    if (r.experiment() != null) {
      id("experiment", r.experiment());
    }
    if (r.history() != null) {
      if (r.history().size() > RerankApi.MAX_HISTORY) {
        throw ApiProblem.invalid("history", "history holds " + r.history().size()
            + " events; the limit is " + RerankApi.MAX_HISTORY);
      }
      for (int i = 0; i < r.history().size(); i++) {
        RerankApi.InlineEvent e = r.history().get(i);
        if (e == null) {
          throw ApiProblem.invalid("history[" + i + "]", "event must not be null");
        }
        if (!isId(e.itemId())) {
          id("history[" + i + "].itemId", e.itemId());
        }
        if (e.timestamp() == null || e.timestamp() < 0) {
          throw ApiProblem.invalid("history[" + i + "].timestamp",
              "timestamp is required (epoch milliseconds ≥ 0)");
        }
      }
    }
  }

  /** True when {@link #id} would accept the value. */
  static boolean isId(String value) {
    return Ids.valid(value);
  }

  /** Throws, naming the field and the reason, unless the value is a valid id ({@link Ids}). */
  static void id(String field, String value) {
    String problem = Ids.problem(value);
    if (problem != null) {
      throw ApiProblem.invalid(field, field + " " + problem);
    }
  }

  /** Probes per candidate, on average, after which {@link #firstDuplicate} uses a HashSet. */
  static final int MAX_PROBES_PER_CANDIDATE = 8;

  /**
   * The position of the first candidate equal to an earlier one, or −1. An open-addressing table
   * of positions (4 bytes a slot, at most half full): a {@code HashSet} of the same strings
   * allocated ≈ 50 bytes a candidate, a fifth of all a request allocated in {@code bench rerank}
   * (JFR, 2026-12-07), and every byte allocated brings the next young-GC pause closer. Strings
   * can be chosen to share a hash code, which would make the probes quadratic: past {@value
   * #MAX_PROBES_PER_CANDIDATE} probes a candidate on average it starts again with a {@code
   * HashSet}, whose colliding bins are trees (O(n log n) whatever the ids).
   */
  static int firstDuplicate(List<String> candidates) {
    int n = candidates.size();
    int capacity = Integer.highestOneBit(2 * Math.max(2, n) - 1) << 1; // a power of 2, ≥ 2n
    int mask = capacity - 1;
    int[] slots = new int[capacity]; // position + 1; 0: empty
    long probeBudget = (long) MAX_PROBES_PER_CANDIDATE * n;
    for (int i = 0; i < n; i++) {
      String c = candidates.get(i);
      int h = c.hashCode();
      int slot = (h ^ (h >>> 16)) & mask;
      while (slots[slot] != 0) {
        if (candidates.get(slots[slot] - 1).equals(c)) {
          return i;
        }
        if (--probeBudget < 0) {
          return firstDuplicateBySet(candidates);
        }
        slot = (slot + 1) & mask;
      }
      slots[slot] = i + 1;
    }
    return -1;
  }

  private static int firstDuplicateBySet(List<String> candidates) {
    Set<String> seen = new HashSet<>(candidates.size() * 2);
    for (int i = 0; i < candidates.size(); i++) {
      if (!seen.add(candidates.get(i))) {
        return i;
      }
    }
    return -1;
  }
}
