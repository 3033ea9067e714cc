package dev.reranker.serving;

import dev.reranker.experiment.ArmChoice;
import dev.reranker.model.Arm;
import dev.reranker.model.EncoderState;
import dev.reranker.model.IncrementalEncoder;
import dev.reranker.model.PlainWeights;
import dev.reranker.state.ActiveModel;
import dev.reranker.state.StateReader;
import dev.reranker.state.StateUnavailableException;
import dev.reranker.state.StateView;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Reranks a product service's candidates for a user (no Spring, no HTTP here).
 *
 * <ol>
 *   <li>Bring the user's state for the arm current (pending events folded first) — or, for a
 *       stateless request, fold the history it brings.</li>
 *   <li>Score every candidate the model knows: user vector · item embedding.</li>
 *   <li>Order: known candidates by score; then unknown ones by the fallback (popularity), flagged.
 *       A user with no history gets the fallback order for everything (cold start). Ties keep the
 *       caller's order.</li>
 * </ol>
 * The state step runs under the request's deadline: if it cannot finish in time (a cold cache miss
 * that must rebuild a long history, say), the fallback order is served with {@code degraded} and
 * the rebuild carries on in the background, warming the cache for the next request. A cheap state
 * step (a cached state with a few pending events at most, the usual case) runs on the caller's
 * thread instead of a worker's: it cannot overrun a deadline by more than a few folds.
 */
public final class Reranker {

  /** An event a stateless request brings along. */
  public record InlineEvent(String itemId, long timestamp) {}

  private final StateReader states;
  private final ItemPopularity popularity;
  private final ExecutorService workers;

  /**
   * CPU nanoseconds workers spent for the requests of the current (request) thread since it last
   * asked ({@link #takeWorkerCpuNanos}): how a request's cost includes the state step it handed
   * off.
   */
  private static final ThreadLocal<long[]> WORKER_CPU = ThreadLocal.withInitial(() -> new long[1]);

  /** The workers' CPU nanoseconds for this thread's requests since the last call; resets. */
  static long takeWorkerCpuNanos() {
    long[] c = WORKER_CPU.get();
    long n = c[0];
    c[0] = 0;
    return n;
  }

  /**
   * @param states where caught-up user states come from
   * @param workers run state steps that are not cheap, under the request's deadline
   */
  public Reranker(StateReader states, ItemPopularity popularity, ExecutorService workers) {
    this.states = states;
    this.popularity = popularity;
    this.workers = workers;
  }

  /** What the state step yields: the user vector and its provenance. */
  private record UserVector(float[] vector, String modelVersion, long position, long bytes) {}

  /**
   * Reranks.
   *
   * @param arm the arm to serve (the fallback: the popularity order)
   * @param k how many items to return (≥ 1)
   * @param deadlineNanos {@link System#nanoTime()} by which the state step must be done
   * @param inline a stateless request's history (oldest first), or null to use the stored one
   */
  public RerankResult rerank(String userId, List<String> candidates, int k, ArmChoice served,
      long deadlineNanos, List<InlineEvent> inline) {
    if (served.arm() == null) {
      return fallback(userId, candidates, k, served, false, false);
    }
    Arm arm = served.arm();
    ActiveModel model = states.models().get(arm);
    UserVector user;
    try {
      // the usual request: a cached, (nearly) caught-up state, read on this thread; handing it to
      // a worker would cost two thread switches, more than the read itself
      StateReader.Cheap quick = inline == null ? states.readIfCheap(userId, arm)
          : StateReader.Cheap.NOT_CHEAP;
      switch (quick) {
        case StateReader.Cheap.Current c -> user = vector(c.view());
        case StateReader.Cheap.NoHistory n -> user = null;
        case StateReader.Cheap.NotCheap n -> {
          long[] workerCpu = new long[1];
          Future<UserVector> work = workers.submit(() -> {
            long c0 = CpuTime.thread();
            try {
              return userVector(userId, arm, model, inline);
            } finally {
              workerCpu[0] = CpuTime.thread() - c0;
            }
          });
          long remaining = deadlineNanos - System.nanoTime();
          user = work.get(Math.max(0, remaining), TimeUnit.NANOSECONDS);
          WORKER_CPU.get()[0] += workerCpu[0]; // published by the future's completion
        }
      }
    } catch (StateUnavailableException | TimeoutException | RejectedExecutionException e) {
      return fallback(userId, candidates, k, served, true, false);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof StateUnavailableException) {
        return fallback(userId, candidates, k, served, true, false);
      }
      throw new IllegalStateException("reranking failed for user " + userId, e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return fallback(userId, candidates, k, served, true, false);
    }
    if (user == null) {
      return fallback(userId, candidates, k, served, false, true);
    }
    return score(userId, candidates, k, served, model, user);
  }

  private UserVector userVector(String userId, Arm arm, ActiveModel model,
      List<InlineEvent> inline) {
    if (inline != null) {
      return inlineVector(model, inline);
    }
    return states.read(userId, arm).map(Reranker::vector).orElse(null);
  }

  /** The user vector of a caught-up state; null when it has read no known item. */
  private static UserVector vector(StateView view) {
    // a history of unknown items only: nothing the model can use
    return view.userVector() == null ? null : new UserVector(view.userVector(),
        view.modelVersion(), view.historyPosition(), view.byteSize());
  }

  /**
   * A stateless request: fold the events it brings, exactly as the stored history would be.
   * Items the model does not know are read past. The softmax arm encodes the last W known events,
   * each at its position among the known events and with the gap to the known event before it
   * (the window of {@code Batch.Window.lastEvents}, as in training, offline evaluation and the
   * stored states).
   */
  private UserVector inlineVector(ActiveModel model, List<InlineEvent> inline) {
    IncrementalEncoder encoder = model.encoder();
    int[] items = new int[inline.size()];
    long[] times = new long[inline.size()];
    int n = 0;
    for (InlineEvent e : inline) {
      int index = model.itemIndex(e.itemId());
      if (index >= 0) {
        items[n] = index;
        times[n++] = e.timestamp();
      }
    }
    int start = model.arm() == Arm.SOFTMAX
        ? Math.max(0, n - states.softmaxWindow()) : 0;
    EncoderState state = start == 0 ? encoder.newState()
        : encoder.newWindowState(start, times[start - 1]);
    for (int i = start; i < n; i++) {
      encoder.fold(state, items[i], times[i]);
    }
    return n == 0 ? null
        : new UserVector(state.userVector(), state.modelVersion(), inline.size(),
            state.byteSize());
  }

  private RerankResult score(String userId, List<String> candidates, int k, ArmChoice arm,
      ActiveModel model, UserVector user) {
    PlainWeights weights = model.plainWeights();
    int n = candidates.size();
    int[] knownAt = new int[n]; // (known) position in the caller's list
    double[] knownScores = new double[n];
    // the unknown ones' arrays only when there are any (a request allocates what it must: each
    // byte brings the next young-GC pause closer, and the pauses are the open-loop tail)
    int[] unknownAt = null;
    double[] unknownScores = null;
    int known = 0;
    int unknown = 0;
    for (int i = 0; i < n; i++) {
      String id = candidates.get(i);
      int index = model.itemIndex(id);
      if (index >= 0) {
        knownAt[known] = i;
        knownScores[known++] = weights.score(user.vector(), index);
      } else {
        if (unknownAt == null) {
          unknownAt = new int[n - i];
          unknownScores = new double[n - i];
        }
        unknownAt[unknown] = i;
        unknownScores[unknown++] = popularity.count(id);
      }
    }
    List<RerankResult.Item> items = new ArrayList<>(Math.min(k, n));
    append(items, candidates, knownAt, knownScores, known, k, false);
    if (unknown > 0) {
      append(items, candidates, unknownAt, unknownScores, unknown, k - items.size(), true);
    }
    return new RerankResult(userId, arm, user.modelVersion(), user.position(), items,
        false, false, user.bytes());
  }

  /** The popularity order for every candidate. */
  public RerankResult fallback(String userId, List<String> candidates, int k, ArmChoice arm,
      boolean degraded, boolean coldStart) {
    int n = candidates.size();
    int[] at = new int[n];
    double[] counts = new double[n];
    for (int i = 0; i < n; i++) {
      at[i] = i;
      counts[i] = popularity.count(candidates.get(i));
    }
    List<RerankResult.Item> items = new ArrayList<>(Math.min(k, n));
    append(items, candidates, at, counts, n, k, true);
    return new RerankResult(userId, arm, null, 0, items, degraded, coldStart, 0);
  }

  /**
   * Appends the best {@code want} of a group, best first (ties: the caller's order, since
   * {@code at} is ascending), ranked after what {@code items} holds.
   */
  private static void append(List<RerankResult.Item> items, List<String> candidates, int[] at,
      double[] scores, int n, int want, boolean fallback) {
    int[] best = TopK.select(scores, n, Math.max(0, Math.min(want, n)));
    for (int j : best) {
      items.add(new RerankResult.Item(candidates.get(at[j]), scores[j], items.size() + 1,
          fallback));
    }
  }
}
