package dev.reranker.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Batched catch-up equals folding event by event: many users at once, each with a different number
 * of earlier events (already in its state) and of new events (padding inside the batch).
 */
class BatchFolderTest {

  @org.junit.jupiter.params.ParameterizedTest(name = "plain up to {0} events")
  @org.junit.jupiter.params.provider.ValueSource(ints = {0, BatchFolder.PLAIN_MAX_EVENTS, Integer.MAX_VALUE})
  void performerCatchUpOfManyUsersEqualsFoldingOneByOne(int plainMaxEvents) {
    ModelConfig config = IncrementalEncoderTest.config(Arm.PERFORMER);
    ModelWeights weights = IncrementalEncoderTest.perturbed(config);
    PlainWeights plain = new PlainWeights(config, weights, "v1");
    IncrementalEncoder encoder = new IncrementalEncoder(plain);
    BatchFolder folder = new BatchFolder(new SequenceModel(config, weights), plain,
        plainMaxEvents);

    int users = 9;
    List<EncoderBackend.Work> work = new ArrayList<>();
    List<EncoderState> expected = new ArrayList<>();
    for (int u = 0; u < users; u++) {
      int before = u * 7; // 0 … 56 events already folded
      int after = 1 + (u * 13) % 40; // 1 … 40 new events
      work.add(catchUp(encoder, before, after, config.items(), 100 + u, expected));
    }
    folder.run(work);
    for (int u = 0; u < users; u++) {
      EncoderState b = work.get(u).state();
      EncoderState e = expected.get(u);
      assertThat(b.position()).isEqualTo(e.position());
      assertThat(b.lastTimestamp()).isEqualTo(e.lastTimestamp());
      assertThat(maxDiff(b.userVector(), e.userVector())).as("user %d", u).isLessThan(1e-4);
      // and the states continue identically
      encoder.fold(b, 3, e.lastTimestamp() + 1000);
      encoder.fold(e, 3, e.lastTimestamp() + 1000);
      assertThat(maxDiff(b.userVector(), e.userVector())).isLessThan(1e-4);
    }
  }

  /**
   * One user's catch-up: a state that has folded {@code before} events, to be brought up to date
   * with {@code after} more; the state folding all of them one by one goes to {@code expected}.
   */
  private static EncoderBackend.Work catchUp(IncrementalEncoder encoder, int before, int after,
      int catalogue, long seed, List<EncoderState> expected) {
    int[] items = new int[before + after];
    long[] times = IncrementalEncoderTest.history(items.length, items, catalogue, seed);
    EncoderState folded = encoder.newState();
    for (int i = 0; i < before; i++) {
      encoder.fold(folded, items[i], times[i]);
    }
    EncoderState batched = folded.copy();
    for (int i = before; i < items.length; i++) {
      encoder.fold(folded, items[i], times[i]);
    }
    expected.add(folded);
    return new EncoderBackend.Work(batched, Arrays.copyOfRange(items, before, items.length),
        Arrays.copyOfRange(times, before, items.length), 0, 0);
  }

  /**
   * Short windows (a live stream's catch-ups) fold on plain arrays spread over the fold pool: the
   * very code of the single fold, so every state is equal to the bit, whichever thread folded it.
   */
  @Test
  void shortPerformerWindowsOfManyUsersFoldExactlyOnThePool() {
    ModelConfig config = IncrementalEncoderTest.config(Arm.PERFORMER);
    ModelWeights weights = IncrementalEncoderTest.perturbed(config);
    PlainWeights plain = new PlainWeights(config, weights, "v1");
    IncrementalEncoder encoder = new IncrementalEncoder(plain);
    BatchFolder folder = new BatchFolder(new SequenceModel(config, weights), plain);
    int users = 40 * BatchFolder.MIN_USERS_PER_TASK; // enough for one share per core
    List<EncoderBackend.Work> work = new ArrayList<>();
    List<EncoderState> expected = new ArrayList<>();
    for (int u = 0; u < users; u++) {
      int before = u % 30;
      int after = 1 + u % BatchFolder.PLAIN_MAX_EVENTS; // 1 … the plain path's limit
      work.add(catchUp(encoder, before, after, config.items(), 300 + u, expected));
    }
    long pooledBefore = BatchFolder.pooledShares.sum();
    folder.run(work);
    if (BatchFolder.FOLD_POOL.getParallelism() > 1) { // CI's machine has 2 cores
      assertThat(BatchFolder.pooledShares.sum() - pooledBefore).as("shares folded on the pool")
          .isEqualTo(BatchFolder.FOLD_POOL.getParallelism() - 1L);
    }
    for (int u = 0; u < users; u++) {
      EncoderState b = work.get(u).state();
      EncoderState e = expected.get(u);
      assertThat(b.position()).as("user %d", u).isEqualTo(e.position());
      assertThat(b.lastTimestamp()).isEqualTo(e.lastTimestamp());
      assertThat(b.userVector()).as("user %d", u).isEqualTo(e.userVector());
      for (int l = 0; l < config.layers(); l++) {
        float[] bs = new float[((dev.reranker.attention.FavorState) b.layer(l)).size()];
        float[] es = new float[bs.length];
        ((dev.reranker.attention.FavorState) b.layer(l)).copyTo(bs, 0);
        ((dev.reranker.attention.FavorState) e.layer(l)).copyTo(es, 0);
        assertThat(bs).as("user %d layer %d", u, l).isEqualTo(es);
      }
    }
  }

  @Test
  void softmaxReencodesTheLastWindow() {
    ModelConfig config = IncrementalEncoderTest.config(Arm.SOFTMAX);
    ModelWeights weights = IncrementalEncoderTest.perturbed(config);
    SequenceModel model = new SequenceModel(config, weights);
    PlainWeights plain = new PlainWeights(config, weights, "v1");
    IncrementalEncoder encoder = new IncrementalEncoder(plain);
    BatchFolder folder = new BatchFolder(model, plain);
    int window = 20;
    List<EncoderBackend.Work> work = new ArrayList<>();
    List<float[]> expected = new ArrayList<>();
    for (int u = 0; u < 5; u++) {
      int[] items = new int[10 + u * 9]; // 10 … 46 events: some shorter than the window
      long[] times = IncrementalEncoderTest.history(items.length, items, config.items(), 200 + u);
      int start = Math.max(0, items.length - window);
      int[] last = Arrays.copyOfRange(items, start, items.length);
      long[] lastTimes = Arrays.copyOfRange(times, start, items.length);
      long previous = start == 0 ? OrderSignal.NO_PREVIOUS : times[start - 1];
      SequenceModel.Forward f = model.forward(Batch.of(List.of(new Batch.Window(last, lastTimes,
          start, previous))), null);
      expected.add(f.userVectors().dup('c').data().asFloat());
      work.add(new EncoderBackend.Work(encoder.newState(), last, lastTimes, start, previous));
    }
    folder.run(work);
    for (int u = 0; u < 5; u++) {
      EncoderState s = work.get(u).state();
      assertThat(maxDiff(s.userVector(), expected.get(u))).isLessThan(1e-5);
      assertThat(s.position()).isEqualTo(10 + u * 9);
      assertThat(((dev.reranker.attention.SoftmaxKvCache) s.layer(0)).length())
          .isEqualTo(Math.min(window, 10 + u * 9));
    }
  }

  static double maxDiff(float[] a, float[] b) {
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(a[i] - b[i]));
    }
    return max;
  }
}
