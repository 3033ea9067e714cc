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
    Set<String> seen = new HashSet<>(candidates.size() * 2);
    for (int i = 0; i < candidates.size(); i++) {
      String c = candidates.get(i);
      if (!isId(c)) { // the field name is built only for the error: this loop runs per candidate
        id("candidates[" + i + "]", c);
      }
      if (!seen.add(c)) {
        throw ApiProblem.invalid("candidates[" + i + "]", "duplicate candidate '"
            + ApiProblem.echo(c) + "'");
      }
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
}
