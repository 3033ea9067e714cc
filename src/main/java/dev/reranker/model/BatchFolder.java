package dev.reranker.model;

import dev.reranker.attention.AttentionState;
import dev.reranker.attention.CausalAttention;
import dev.reranker.attention.FavorAttention;
import dev.reranker.attention.FavorState;
import dev.reranker.attention.Floats;
import dev.reranker.attention.SoftmaxAttention;
import dev.reranker.attention.SoftmaxKvCache;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Many users' states brought up to date at once.
 *
 * <ul>
 *   <li><b>Performer, up to {@value #PLAIN_MAX_EVENTS} events per user</b> (what a live stream
 *   brings): the users' events fold on plain arrays in blocks ({@link
 *   IncrementalEncoder#foldBlock}: each user's arithmetic is the single-event fold's, so the
 *   result is the same to the bit, while each weight matrix serves a block of users from L1), the
 *   users spread over the machine's cores. Measured (2-core AMD EPYC, states at position 100, d 32,
 *   one event × 2,000 users, µs per event once compiled): 1.2 in blocks against 1.8 one user at a
 *   time (2026-12-07), and 56 through the batched ND4J window pass below (2026-12-06), whose
 *   per-op cost is paid again for every layer.</li>
 *   <li><b>Performer, longer windows</b> (a cold catch-up of thousands of events): each user's new
 *   events form one window that starts from the user's per-layer [S | z] ({@link
 *   SequenceModel#forward(Batch, SequenceModel.Dropout, List)}); padded keys are masked so every
 *   final state is exact. Slower per event than the plain folds, but its state sums run per chunk
 *   and in double ({@code CausalLinearAttention}), where the plain fold adds every event into the
 *   float32 state: over a 100,000-event catch-up the plain folds drifted 1.3e-4 from a
 *   double-precision encode, this pass stays within 1e-4 (RecoveryIntegrationTest). The limit is
 *   {@code UserStates}' rule for batching at all (8 events per user on average), so the
 *   catch-ups that took this pass before still do.</li>
 *   <li><b>Softmax</b>: the baseline's state is the encoding of the user's last W events; bringing it
 *   up to date re-encodes them (the baseline's real cost per new event).</li>
 * </ul>
 * Batched windows are grouped by length (little padding) into passes of at most {@value #MAX_ROWS}
 * positions, each run in a reused ND4J workspace. Not thread-safe (one per thread); the plain folds
 * run on a shared pool of daemon threads, one per core ({@link #FOLD_POOL}).
 */
public final class BatchFolder {

  /** The most positions (windows × padded length) one batched pass holds. */
  public static final int MAX_ROWS = 8192;

  /** Performer windows of at most this many events fold on plain arrays (above). */
  public static final int PLAIN_MAX_EVENTS = 8;

  /** Below this many users per core, the plain folds stay on the calling thread. */
  static final int MIN_USERS_PER_TASK = 16;

  /** One worker per core, daemon threads named reranker-fold-N, shared by every folder. */
  static final ForkJoinPool FOLD_POOL = new ForkJoinPool(
      Runtime.getRuntime().availableProcessors(), pool -> {
        ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
        t.setName("reranker-fold-" + t.getPoolIndex());
        t.setDaemon(true);
        return t;
      }, null, false);

  /** Shares of users folded on the pool rather than the caller, over the process (for tests). */
  static final java.util.concurrent.atomic.LongAdder pooledShares =
      new java.util.concurrent.atomic.LongAdder();

  private final SequenceModel model;
  private final String modelVersion;
  private final ModelConfig config;
  private final ThreadLocal<IncrementalEncoder> encoders;
  private final int plainMaxEvents;

  /**
   * @param model the batched model
   * @param plain the same model's plain weights (shared, immutable), for the plain-array folds
   */
  public BatchFolder(SequenceModel model, PlainWeights plain) {
    this(model, plain, PLAIN_MAX_EVENTS);
  }

  /**
   * With another limit for the plain path (0: every performer window through the batched ND4J
   * pass), for measuring and for testing that pass.
   */
  public BatchFolder(SequenceModel model, PlainWeights plain, int plainMaxEvents) {
    this.plainMaxEvents = plainMaxEvents;
    this.model = model;
    this.modelVersion = plain.modelVersion();
    this.config = model.config();
    this.encoders = ThreadLocal.withInitial(() -> new IncrementalEncoder(plain));
  }

  /** Brings every state up to date; states are updated in place. */
  public void run(List<EncoderBackend.Work> work) {
    for (EncoderBackend.Work w : work) {
      if (!w.state().modelVersion().equals(modelVersion) || w.state().arm() != config.arm()) {
        throw new IllegalArgumentException("state of model " + w.state().modelVersion()
            + " given to the folder of " + modelVersion);
      }
    }
    List<EncoderBackend.Work> sorted = new ArrayList<>(work.size());
    if (config.arm() == Arm.PERFORMER) {
      List<EncoderBackend.Work> plain = new ArrayList<>(work.size());
      for (EncoderBackend.Work w : work) {
        (w.items().length <= plainMaxEvents ? plain : sorted).add(w);
      }
      foldPlain(plain);
    } else {
      sorted.addAll(work);
    }
    sorted.sort(Comparator.comparingInt(w -> w.items().length));
    int start = 0;
    while (start < sorted.size()) { // a window longer than MAX_ROWS runs alone
      int end = start + 1;
      while (end < sorted.size()
          && (long) (end - start + 1) * sorted.get(end).items().length <= MAX_ROWS) {
        end++;
      }
      pass(sorted.subList(start, end));
      start = end;
    }
  }

  /**
   * Folds each user's events on plain arrays, the users split into one contiguous share per core:
   * the caller folds the first share while the pool folds the others. Users are independent, so
   * the result does not depend on the split.
   */
  private void foldPlain(List<EncoderBackend.Work> work) {
    int tasks = Math.min(FOLD_POOL.getParallelism(), work.size() / MIN_USERS_PER_TASK);
    if (tasks <= 1) {
      foldPlain(work, 0, work.size());
      return;
    }
    List<ForkJoinTask<?>> forked = new ArrayList<>(tasks - 1);
    for (int t = 1; t < tasks; t++) {
      int from = (int) ((long) work.size() * t / tasks);
      int to = (int) ((long) work.size() * (t + 1) / tasks);
      forked.add(FOLD_POOL.submit(() -> {
        foldPlain(work, from, to);
        pooledShares.increment();
      }));
    }
    RuntimeException failure = null;
    try {
      foldPlain(work, 0, work.size() / tasks);
    } catch (RuntimeException e) {
      failure = e;
    }
    for (ForkJoinTask<?> task : forked) { // every share finishes before the states are read
      try {
        task.join();
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  /** Folds the users' events in blocks of users ({@link IncrementalEncoder#foldEach}). */
  private void foldPlain(List<EncoderBackend.Work> work, int from, int to) {
    List<EncoderState> states = new ArrayList<>(to - from);
    List<int[]> items = new ArrayList<>(to - from);
    List<long[]> timestamps = new ArrayList<>(to - from);
    for (EncoderBackend.Work w : work.subList(from, to)) {
      states.add(w.state());
      items.add(w.items());
      timestamps.add(w.timestamps());
    }
    encoders.get().foldEach(states, items, timestamps);
  }

  private void pass(List<EncoderBackend.Work> group) {
    int heads = config.heads();
    List<Batch.Window> windows = new ArrayList<>(group.size());
    for (EncoderBackend.Work w : group) {
      EncoderState s = w.state();
      windows.add(config.arm() == Arm.PERFORMER
          ? new Batch.Window(w.items(), w.timestamps(), s.position(),
              s.position() == 0 ? OrderSignal.NO_PREVIOUS : s.lastTimestamp())
          : new Batch.Window(w.items(), w.timestamps(), w.firstPosition(),
              w.previousTimestamp()));
    }
    Batch batch = Batch.of(windows);
    try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(
        Workspaces.PER_PASS, "batch-folder")) {
      if (config.arm() == Arm.PERFORMER) {
        performerPass(group, batch);
        return;
      }
      SequenceModel.Forward f = model.forward(batch, null, null);
      float[] users = Floats.toFloats(f.userVectors()); // (B, D)
      List<CausalAttention.Forward> attention = f.attention();
      for (int u = 0; u < group.size(); u++) {
        EncoderBackend.Work w = group.get(u);
        int length = w.items().length;
        AttentionState[] layers = new AttentionState[config.layers()];
        for (int l = 0; l < layers.length; l++) {
          SoftmaxAttention.SoftmaxForward sf = (SoftmaxAttention.SoftmaxForward) attention.get(l);
          long rows0 = (long) u * heads;
          layers[l] = SoftmaxKvCache.of(rowsOf(sf.keys(), rows0, heads, length),
              rowsOf(sf.values(), rows0, heads, length));
        }
        float[] user = java.util.Arrays.copyOfRange(users, u * config.dim(), (u + 1)
            * config.dim());
        w.state().replace(layers, user, w.firstPosition() + length, w.timestamps()[length - 1]);
      }
    }
  }

  /**
   * The performer's pass: every user's [S | z] goes in, and comes back, as one bulk copy per layer
   * (per-user ND4J operations would cost more than the fold itself).
   */
  private void performerPass(List<EncoderBackend.Work> group, Batch batch) {
    int b = group.size();
    List<INDArray> initial = new ArrayList<>();
    for (int l = 0; l < config.layers(); l++) {
      FavorState first = (FavorState) group.get(0).state().layer(l);
      int size = first.size(); // heads·m·(d_h+1)
      float[] all = new float[b * size];
      for (int u = 0; u < b; u++) {
        ((FavorState) group.get(u).state().layer(l)).copyTo(all, u * size);
      }
      initial.add(Floats.toArray(all, (long) b * config.heads(), first.features(),
          first.valueDim() + 1));
    }
    SequenceModel.Forward f = model.forward(batch, null, initial);
    float[] users = Floats.toFloats(f.userVectors()); // (B, D)
    List<CausalAttention.Forward> attention = f.attention();
    for (int l = 0; l < config.layers(); l++) {
      float[] finals = Floats.toFloats(((FavorAttention.FavorForward) attention.get(l))
          .finalState()); // (B·H, m, d_h+1)
      for (int u = 0; u < b; u++) {
        FavorState s = (FavorState) group.get(u).state().layer(l);
        s.copyFrom(finals, u * s.size(), s.position() + group.get(u).items().length);
      }
    }
    for (int u = 0; u < b; u++) {
      EncoderBackend.Work w = group.get(u);
      int length = w.items().length;
      w.state().replace(w.state().layersView(), java.util.Arrays.copyOfRange(users,
          u * config.dim(), (u + 1) * config.dim()), w.state().position() + length,
          w.timestamps()[length - 1]);
    }
  }

  private static INDArray rowsOf(INDArray a, long row0, int heads, int length) {
    return a.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(row0, row0 + heads),
        org.nd4j.linalg.indexing.NDArrayIndex.interval(0, length),
        org.nd4j.linalg.indexing.NDArrayIndex.all());
  }
}
