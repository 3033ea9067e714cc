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
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Many users' states brought up to date in batched ND4J passes: where the per-op cost of ND4J is
 * amortised over many users and events (one event for one user is cheaper on plain arrays, see
 * {@link IncrementalEncoder}).
 *
 * <ul>
 *   <li><b>Performer</b>: each user's new events form one window that starts from the user's
 *   per-layer [S | z] ({@link SequenceModel#forward(Batch, SequenceModel.Dropout, List)}); padded keys
 *   are masked so every final state is exact. Equal to folding the events one by one.</li>
 *   <li><b>Softmax</b>: the baseline's state is the encoding of the user's last W events; bringing it
 *   up to date re-encodes them (the baseline's real cost per new event).</li>
 * </ul>
 * Windows are grouped by length (little padding) into passes of at most {@value #MAX_ROWS}
 * positions, each run in a reused ND4J workspace. Not thread-safe (one per thread).
 */
public final class BatchFolder {

  /** The most positions (windows × padded length) one batched pass holds. */
  public static final int MAX_ROWS = 8192;

  private final SequenceModel model;
  private final String modelVersion;
  private final ModelConfig config;

  public BatchFolder(SequenceModel model, String modelVersion) {
    this.model = model;
    this.modelVersion = modelVersion;
    this.config = model.config();
  }

  /** Brings every state up to date; states are updated in place. */
  public void run(List<EncoderBackend.Work> work) {
    for (EncoderBackend.Work w : work) {
      if (!w.state().modelVersion().equals(modelVersion) || w.state().arm() != config.arm()) {
        throw new IllegalArgumentException("state of model " + w.state().modelVersion()
            + " given to the folder of " + modelVersion);
      }
    }
    List<EncoderBackend.Work> sorted = new ArrayList<>(work);
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
