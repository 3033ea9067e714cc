package dev.reranker.training;

import dev.reranker.model.Batch;
import dev.reranker.model.SequenceModel;
import dev.reranker.model.Workspaces;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Offline next-item evaluation under leave-one-out.
 *
 * <p><b>Full ranking</b> (the primary metrics): the target is ranked against every item in the
 * catalogue, except items already in the user's input history (other than the target itself, should
 * it be a repeat). Ties are broken <b>pessimistically</b>: rank = 1 + the number of competing items
 * scoring ≥ the target, so a model that scores everything alike gets no credit. HR@10 = share of
 * users with rank ≤ 10; NDCG@10 = mean of 1/log₂(rank + 1) over those.
 *
 * <p><b>Sampled</b> (SASRec's protocol, for comparison with papers only: it disagrees with full
 * ranking, Krichene &amp; Rendle, KDD 2020): the target against 100 items drawn uniformly, without
 * replacement, from the items the user never touched (seeded per user), same tie rule.
 */
public final class Evaluator {

  /** The cut-off of HR@k and NDCG@k. */
  public static final int K = 10;
  /** Negatives of the sampled protocol. */
  public static final int SAMPLED_NEGATIVES = 100;

  private Evaluator() {}

  /**
   * One user's evaluation case.
   *
   * @param window the input events (possibly the last few of a longer history)
   * @param target the held-out next item
   * @param history items to exclude from full ranking: the whole input history
   * @param touched every item of the user, held-out ones included (never a sampled negative)
   */
  public record Case(String userId, Batch.Window window, int target, int[] history, int[] touched) {}

  /** HR@10 and NDCG@10 under both protocols. */
  public record Metrics(double hr, double ndcg, double sampledHr, double sampledNdcg, int users) {
    public Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("hr@10", round(hr));
      m.put("ndcg@10", round(ndcg));
      m.put("sampled_hr@10", round(sampledHr));
      m.put("sampled_ndcg@10", round(sampledNdcg));
      m.put("users", users);
      return m;
    }

    private static double round(double x) {
      return Math.round(x * 1e6) / 1e6;
    }
  }

  /** Scores every item for a batch of users: rows are users, columns items. */
  public interface Scorer {
    float[][] scores(List<Case> cases);
  }

  /** The model's scores: user vector (last event's h) · item embedding, in batches. */
  public static Scorer modelScorer(SequenceModel model) {
    return cases -> {
      List<Batch.Window> windows = new ArrayList<>();
      for (Case c : cases) {
        windows.add(c.window());
      }
      try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(
          Workspaces.PER_PASS, "evaluation")) {
        SequenceModel.Forward f = model.forward(Batch.of(windows), null);
        INDArray users = f.userVectors(); // (B, D)
        INDArray items = model.weights().itemEmbedding();
        INDArray scores = Nd4j.createUninitialized(users.dataType(), new long[] {users.size(0),
            items.size(0)}, 'c');
        Nd4j.gemm(users, items, scores, false, true, 1, 0);
        return scores.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).toFloatMatrix();
      }
    };
  }

  /** Popularity: every user gets the item counts as scores. */
  public static Scorer popularityScorer(long[] counts) {
    float[] row = new float[counts.length];
    for (int i = 0; i < counts.length; i++) {
      row[i] = counts[i];
    }
    return cases -> {
      float[][] out = new float[cases.size()][];
      Arrays.fill(out, row);
      return out;
    };
  }

  /** The most input positions scored in one batched forward pass (memory is linear in them). */
  public static final int POSITIONS_PER_BATCH = 32_768;

  /**
   * Users per batch for these cases: 256, or fewer when windows are long, so that one forward pass
   * holds at most {@value #POSITIONS_PER_BATCH} positions (256 whole histories of 3,600 events
   * would take gigabytes of activations).
   */
  public static int batchSizeFor(List<Case> cases) {
    int longest = 1;
    for (Case c : cases) {
      longest = Math.max(longest, c.window().length());
    }
    return Math.max(1, Math.min(256, POSITIONS_PER_BATCH / longest));
  }

  /**
   * Evaluates cases in batches.
   *
   * @param batchSize users scored at once
   * @param seed the sampled protocol's seed
   */
  public static Metrics evaluate(Scorer scorer, List<Case> cases, int items, int batchSize,
      long seed) {
    return evaluatePerUser(scorer, cases, items, batchSize, seed).metrics();
  }

  /**
   * One evaluation's users: HR@10 (0 or 1) and NDCG@10 of each under full ranking, in case order
   * (the unit bootstrap intervals resample, {@link Bootstrap}).
   */
  public record PerUser(Metrics metrics, double[] hits, double[] ndcgs) {}

  /** {@link #evaluate}, keeping each user's full-ranking result. */
  public static PerUser evaluatePerUser(Scorer scorer, List<Case> cases, int items,
      int batchSize, long seed) {
    double[] hits = new double[cases.size()];
    double[] ndcgs = new double[cases.size()];
    double hr = 0;
    double ndcg = 0;
    double sampledHr = 0;
    double sampledNdcg = 0;
    boolean[] excluded = new boolean[items];
    for (int start = 0; start < cases.size(); start += batchSize) {
      List<Case> chunk = cases.subList(start, Math.min(cases.size(), start + batchSize));
      float[][] scores = scorer.scores(chunk);
      for (int u = 0; u < chunk.size(); u++) {
        Case c = chunk.get(u);
        float[] s = scores[u];
        int rank = fullRank(s, c.target(), c.history(), excluded);
        if (rank <= K) {
          hits[start + u] = 1;
          ndcgs[start + u] = 1 / log2(rank + 1);
          hr += 1;
          ndcg += ndcgs[start + u];
        }
        int sampledRank = sampledRank(s, c, items, seed + start + u);
        if (sampledRank <= K) {
          sampledHr += 1;
          sampledNdcg += 1 / log2(sampledRank + 1);
        }
      }
    }
    int n = cases.size();
    Metrics m = n == 0 ? new Metrics(0, 0, 0, 0, 0)
        : new Metrics(hr / n, ndcg / n, sampledHr / n, sampledNdcg / n, n);
    return new PerUser(m, hits, ndcgs);
  }

  /** 1 + #{items not excluded, other than the target, scoring ≥ the target}. */
  static int fullRank(float[] scores, int target, int[] history, boolean[] excluded) {
    for (int h : history) {
      excluded[h] = true;
    }
    excluded[target] = false;
    float t = scores[target];
    int rank = 1;
    for (int i = 0; i < scores.length; i++) {
      if (i != target && !excluded[i] && scores[i] >= t) {
        rank++;
      }
    }
    for (int h : history) {
      excluded[h] = false;
    }
    return rank;
  }

  private static int sampledRank(float[] scores, Case c, int items, long seed) {
    int[] touched = c.touched().clone();
    Arrays.sort(touched);
    int available = items - distinct(touched);
    int draws = Math.min(SAMPLED_NEGATIVES, available);
    SplittableRandom random = new SplittableRandom(seed);
    java.util.Set<Integer> chosen = new java.util.HashSet<>();
    while (chosen.size() < draws) {
      int j = random.nextInt(items);
      if (Arrays.binarySearch(touched, j) < 0) {
        chosen.add(j);
      }
    }
    float t = scores[c.target()];
    int rank = 1;
    for (int j : chosen) {
      if (scores[j] >= t) {
        rank++;
      }
    }
    return rank;
  }

  private static int distinct(int[] sorted) {
    int n = 0;
    for (int i = 0; i < sorted.length; i++) {
      if (i == 0 || sorted[i] != sorted[i - 1]) {
        n++;
      }
    }
    return n;
  }

  private static double log2(double x) {
    return Math.log(x) / Math.log(2);
  }
}
