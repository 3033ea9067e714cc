package dev.reranker.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reranker.attention.FavorProjection;
import dev.reranker.attention.FavorState;
import dev.reranker.attention.FeatureMap;
import dev.reranker.attention.FloatKernels;
import dev.reranker.attention.GaussianSampler;
import dev.reranker.attention.SoftmaxKvCache;
import java.io.IOException;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The incremental encoder folds a history event by event into the state a batched encode gives:
 * user vector at every step and the final attention states within 1e-4 (float32), for both arms.
 * The weights are random but not initial (perturbed LayerNorms and biases), so every path matters.
 */
class IncrementalEncoderTest {

  static final int EVENTS = 600;

  static ModelConfig config(Arm arm) {
    return ModelConfig.builder(50, arm).dim(32).layers(2).heads(2).ffnDim(64)
        .kernel(FeatureMap.Kernel.SOFTMAX).features(32).rowNorms(FavorProjection.RowNorms.CHI)
        .chunk(128).dropout(0.1).seed(11).build();
  }

  static ModelWeights perturbed(ModelConfig config) {
    ModelWeights w = ModelWeights.initialize(config);
    GaussianSampler g = new GaussianSampler(4);
    w.arrays().forEach((name, a) -> {
      if (a.size(0) == 1) {
        for (long i = 0; i < a.length(); i++) {
          a.putScalar(i, a.getDouble(i) + 0.2 * g.next());
        }
      }
    });
    return w;
  }

  static long[] history(int n, int[] items, int catalogue, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    long[] times = new long[n];
    long t = 1_700_000_000_000L;
    for (int i = 0; i < n; i++) {
      items[i] = r.nextInt(catalogue);
      t += r.nextInt(4) == 0 ? 0 : r.nextLong(86_400_000L); // bursts and days apart
      times[i] = t;
    }
    return times;
  }

  /**
   * Folds the events one by one into {@code state} and returns the largest |folded − batch|
   * user-vector entry over every position (the batch forward's hidden state at a row is the user
   * vector at that position).
   */
  static double foldAgainstBatch(SequenceModel batched, IncrementalEncoder encoder,
      EncoderState state, int[] items, long[] times) {
    int dim = batched.config().dim();
    float[] hidden = batched.forward(Batch.of(java.util.List.of(new Batch.Window(items, times, 0,
        OrderSignal.NO_PREVIOUS))), null).hidden().dup('c').data().asFloat();
    double maxDiff = 0;
    for (int t = 0; t < items.length; t++) {
      encoder.fold(state, items[t], times[t]);
      float[] u = state.userVector();
      for (int j = 0; j < dim; j++) {
        maxDiff = Math.max(maxDiff, Math.abs(u[j] - hidden[t * dim + j]));
      }
    }
    return maxDiff;
  }

  /** max |a.z − b.z| ÷ max |b.z| over one layer's heads and features. */
  static double relativeZDiff(FavorState a, FavorState b, ModelConfig config) {
    double scale = 0;
    double diff = 0;
    for (int h = 0; h < config.heads(); h++) {
      for (int i = 0; i < config.features(); i++) {
        scale = Math.max(scale, Math.abs(b.z(h, i)));
        diff = Math.max(diff, Math.abs(a.z(h, i) - b.z(h, i)));
      }
    }
    return diff / scale;
  }

  @ParameterizedTest
  @EnumSource(Arm.class)
  void foldingEventByEventEqualsBatchEncoding(Arm arm) throws IOException {
    ModelConfig config = config(arm);
    ModelWeights weights = perturbed(config);
    SequenceModel batched = new SequenceModel(config, weights);
    IncrementalEncoder encoder = new IncrementalEncoder(
        new PlainWeights(config, weights, "test-1"));
    int[] items = new int[EVENTS];
    long[] times = history(EVENTS, items, config.items(), 5);

    EncoderState state = encoder.newState();
    double maxDiff = foldAgainstBatch(batched, encoder, state, items, times);
    assertThat(maxDiff).as("max |folded − batch| user vector over %d events", EVENTS)
        .isLessThan(1e-4);
    assertThat(state.position()).isEqualTo(EVENTS);

    // the batched encode's state equals the folded one, and continues identically
    EncoderState encoded = IncrementalEncoder.encode(batched, "test-1", items, times);
    assertThat(encoded.position()).isEqualTo(EVENTS);
    assertThat(encoded.lastTimestamp()).isEqualTo(times[EVENTS - 1]);
    for (int l = 0; l < config.layers(); l++) {
      if (arm == Arm.PERFORMER) {
        assertThat(relativeZDiff((FavorState) state.layer(l), (FavorState) encoded.layer(l),
            config)).as("layer %d z", l).isLessThan(1e-4);
      } else {
        SoftmaxKvCache a = (SoftmaxKvCache) state.layer(l);
        SoftmaxKvCache b = (SoftmaxKvCache) encoded.layer(l);
        assertThat(b.length()).isEqualTo(EVENTS);
        assertThat(a.length()).isEqualTo(EVENTS);
        double scale = 0;
        double diff = 0;
        for (int h = 0; h < a.heads(); h++) {
          for (int t = 0; t < EVENTS; t++) {
            for (int j = 0; j < a.keyDim(); j++) {
              scale = Math.max(scale, Math.abs(b.key(h, t, j)));
              diff = Math.max(diff, Math.abs(a.key(h, t, j) - b.key(h, t, j)));
            }
            for (int j = 0; j < a.valueDim(); j++) {
              scale = Math.max(scale, Math.abs(b.value(h, t, j)));
              diff = Math.max(diff, Math.abs(a.value(h, t, j) - b.value(h, t, j)));
            }
          }
        }
        assertThat(diff / scale).as("layer %d keys and values", l).isLessThan(1e-4);
      }
    }
    encoder.fold(state, 7, times[EVENTS - 1] + 60_000);
    encoder.fold(encoded, 7, times[EVENTS - 1] + 60_000);
    float[] a = state.userVector();
    float[] b = encoded.userVector();
    for (int j = 0; j < a.length; j++) {
      assertThat((double) Math.abs(a[j] - b[j])).isLessThan(1e-4);
    }

    // binary form: exact size, exact round trip
    byte[] bytes = state.toBytes();
    assertThat((long) bytes.length).isEqualTo(state.byteSize());
    EncoderState back = EncoderState.fromBytes(bytes);
    assertThat(back.toBytes()).isEqualTo(bytes);
    assertThat(back.modelVersion()).isEqualTo("test-1");
    assertThatThrownBy(() -> EncoderState.fromBytes(java.util.Arrays.copyOf(bytes, bytes.length
        - 3))).isInstanceOf(IOException.class).hasMessageContaining("truncated");
  }

  /**
   * The vector kernels (this test JVM's {@link FloatKernels#preferred()}) fold as the reference
   * kernels do, at shapes whose rows leave a remainder past the last full lane (head dimension 24
   * and 8, 40 and 20 features, FFN 100 and 72): states and user vectors within 1e-5 of each other
   * after 2,000 events, and both within 1e-4 of the batched encode.
   */
  @ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource({"48, 2, 40, 100", "24, 3, 20, 72", "32, 2, 32, 128"})
  void vectorKernelsFoldAsTheReferenceDoes(int dim, int heads, int features, int ffn) {
    ModelConfig config = ModelConfig.builder(50, Arm.PERFORMER).dim(dim).layers(2).heads(heads)
        .ffnDim(ffn).kernel(FeatureMap.Kernel.SOFTMAX).features(features)
        .rowNorms(FavorProjection.RowNorms.CHI).chunk(128).dropout(0.1).seed(13).build();
    ModelWeights weights = perturbed(config);
    PlainWeights plain = new PlainWeights(config, weights, "k");
    IncrementalEncoder fast = new IncrementalEncoder(plain, FloatKernels.preferred());
    IncrementalEncoder reference = new IncrementalEncoder(plain, FloatKernels.scalar());
    assertThat(FloatKernels.preferred().name()).startsWith("vector-");
    int events = 2_000;
    int[] items = new int[events];
    long[] times = history(events, items, config.items(), 9);
    EncoderState a = fast.newState();
    EncoderState b = reference.newState();
    double worstUser = 0;
    for (int t = 0; t < events; t++) {
      fast.fold(a, items[t], times[t]);
      reference.fold(b, items[t], times[t]);
      float[] ua = a.userVector();
      float[] ub = b.userVector();
      for (int j = 0; j < dim; j++) {
        worstUser = Math.max(worstUser, Math.abs(ua[j] - ub[j]));
      }
    }
    assertThat(worstUser).as("max |vector − reference| user vector").isLessThan(1e-5);
    for (int l = 0; l < config.layers(); l++) {
      assertThat(relativeZDiff((FavorState) a.layer(l), (FavorState) b.layer(l), config))
          .as("layer %d z", l).isLessThan(1e-5);
    }
    EncoderState batched = IncrementalEncoder.encode(new SequenceModel(config, weights), "k",
        items, times);
    float[] ua = a.userVector();
    float[] ub = batched.userVector();
    for (int j = 0; j < dim; j++) {
      assertThat((double) Math.abs(ua[j] - ub[j])).isLessThan(1e-4);
    }
  }

  @ParameterizedTest
  @EnumSource(Arm.class)
  void stateSizeIsConstantForThePerformerAndGrowsForSoftmax(Arm arm) {
    ModelConfig config = config(arm);
    IncrementalEncoder encoder = new IncrementalEncoder(
        new PlainWeights(config, ModelWeights.initialize(config), "v"));
    EncoderState state = encoder.newState();
    encoder.fold(state, 1, 0);
    long after1 = state.byteSize();
    for (int i = 0; i < 99; i++) {
      encoder.fold(state, i % 50, i * 1000L);
    }
    long after100 = state.byteSize();
    if (arm == Arm.PERFORMER) {
      assertThat(after100).isEqualTo(after1);
    } else {
      // 99 more events × layers × heads × (d + d_v) floats
      assertThat(after100 - after1).isEqualTo(99L * 2 * 2 * 32 * 4);
    }
  }

  @ParameterizedTest
  @EnumSource(Arm.class)
  void refusesStatesOfAnotherModelAndUnknownItems(Arm arm) {
    ModelConfig config = config(arm);
    ModelWeights w = ModelWeights.initialize(config);
    IncrementalEncoder a = new IncrementalEncoder(new PlainWeights(config, w, "a"));
    IncrementalEncoder b = new IncrementalEncoder(new PlainWeights(config, w, "b"));
    EncoderState state = a.newState();
    assertThatThrownBy(() -> b.fold(state, 1, 0)).hasMessageContaining("belongs to model a");
    assertThatThrownBy(() -> a.fold(state, 50, 0)).hasMessageContaining("item index 50");
    // a block: every state and item checked before any state changes
    EncoderState[] states = {a.newState(), a.newState(), b.newState()};
    assertThatThrownBy(() -> a.foldBlock(states, new int[] {1, 2, 3}, new long[3], 0, 3))
        .hasMessageContaining("belongs to model b");
    assertThatThrownBy(() -> a.foldBlock(states, new int[] {1, 50, 3}, new long[3], 0, 2))
        .hasMessageContaining("item index 50");
    assertThat(states[0].position()).isZero();
    assertThat(states[1].position()).isZero();
  }

  /**
   * A block of users folded stage by stage equals folding each user alone, to the bit: 37 users
   * (two full blocks and a remainder) at different positions, several rounds, in both kernel sets.
   */
  @ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource({"PERFORMER, true", "PERFORMER, false",
      "SOFTMAX, true", "SOFTMAX, false"})
  void aBlockOfUsersFoldsToTheBitAsEachAlone(Arm arm, boolean vector) {
    ModelConfig config = config(arm);
    PlainWeights plain = new PlainWeights(config, perturbed(config), "v1");
    FloatKernels kernels = vector ? FloatKernels.preferred() : FloatKernels.scalar();
    IncrementalEncoder encoder = new IncrementalEncoder(plain, kernels);
    int users = 2 * IncrementalEncoder.BLOCK + 5;
    EncoderState[] alone = new EncoderState[users];
    EncoderState[] blocked = new EncoderState[users];
    int[][] items = new int[users][];
    long[][] times = new long[users][];
    int rounds = 6;
    for (int u = 0; u < users; u++) {
      int before = (u * 5) % 23;
      items[u] = new int[before + rounds];
      times[u] = history(items[u].length, items[u], config.items(), 500 + u);
      alone[u] = encoder.newState();
      for (int i = 0; i < before; i++) {
        encoder.fold(alone[u], items[u][i], times[u][i]);
      }
      blocked[u] = alone[u].copy();
    }
    for (int r = 0; r < rounds; r++) {
      int[] roundItems = new int[users];
      long[] roundTimes = new long[users];
      for (int u = 0; u < users; u++) {
        int i = items[u].length - rounds + r;
        encoder.fold(alone[u], items[u][i], times[u][i]);
        roundItems[u] = items[u][i];
        roundTimes[u] = times[u][i];
      }
      // from 1, so the arrays' offset is exercised too
      encoder.fold(blocked[0], roundItems[0], roundTimes[0]);
      encoder.foldBlock(blocked, roundItems, roundTimes, 1, users - 1);
    }
    for (int u = 0; u < users; u++) {
      assertThat(blocked[u].position()).isEqualTo(alone[u].position());
      assertThat(blocked[u].lastTimestamp()).isEqualTo(alone[u].lastTimestamp());
      assertThat(blocked[u].userVector()).as("user %d", u).isEqualTo(alone[u].userVector());
      for (int l = 0; l < config.layers(); l++) {
        assertThat(layerBytes(blocked[u], l)).as("user %d layer %d", u, l)
            .isEqualTo(layerBytes(alone[u], l));
      }
    }
  }

  /**
   * Users with 0 to 40 new events each, folded in rounds of blocks, equal each user's events folded
   * one by one, to the bit.
   */
  @ParameterizedTest
  @EnumSource(Arm.class)
  void foldEachEqualsEveryUserFoldedAlone(Arm arm) {
    ModelConfig config = config(arm);
    PlainWeights plain = new PlainWeights(config, perturbed(config), "v1");
    IncrementalEncoder encoder = new IncrementalEncoder(plain);
    int users = 3 * IncrementalEncoder.BLOCK + 1;
    java.util.List<EncoderState> alone = new java.util.ArrayList<>();
    java.util.List<EncoderState> each = new java.util.ArrayList<>();
    java.util.List<int[]> items = new java.util.ArrayList<>();
    java.util.List<long[]> times = new java.util.ArrayList<>();
    for (int u = 0; u < users; u++) {
      int n = (u * 7) % 41; // 0 … 40 events, users dropping out of the rounds at different points
      int[] its = new int[n];
      long[] ts = history(n, its, config.items(), 900 + u);
      EncoderState a = encoder.newState();
      encoder.fold(a, u % config.items(), 1_000L); // not all at position 0
      EncoderState e = a.copy();
      for (int i = 0; i < n; i++) {
        encoder.fold(a, its[i], ts[i]);
      }
      alone.add(a);
      each.add(e);
      items.add(its);
      times.add(ts);
    }
    encoder.foldEach(each, items, times);
    for (int u = 0; u < users; u++) {
      assertThat(each.get(u).position()).as("user %d", u).isEqualTo(alone.get(u).position());
      assertThat(each.get(u).userVector()).as("user %d", u).isEqualTo(alone.get(u).userVector());
      for (int l = 0; l < config.layers(); l++) {
        assertThat(layerBytes(each.get(u), l)).as("user %d layer %d", u, l)
            .isEqualTo(layerBytes(alone.get(u), l));
      }
    }
    assertThatThrownBy(() -> encoder.foldEach(each, items.subList(1, users), times))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /** The layer's state as serialised: every float to the bit. */
  private static byte[] layerBytes(EncoderState state, int layer) {
    try {
      java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
      state.layer(layer).writeTo(new java.io.DataOutputStream(bytes));
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** GELU through one exp equals the tanh form the batched model uses, tails included. */
  @org.junit.jupiter.api.Test
  void geluThroughExpEqualsTheTanhForm() {
    double worst = 0;
    for (int i = -200_000; i <= 200_000; i++) {
      float x = i * 1e-4f * (1 + Math.abs(i) / 2_000f); // dense near 0, out to ±4,000
      double inner = Ops.GELU_C * (x + Ops.GELU_A * x * x * x);
      double tanhForm = 0.5 * x * (1 + Math.tanh(inner));
      float g = IncrementalEncoder.gelu(x);
      assertThat(Float.isFinite(g)).as("gelu(%s)", x).isTrue();
      worst = Math.max(worst, Math.abs(g - tanhForm) / Math.max(1, Math.abs(tanhForm)));
    }
    assertThat(worst).isLessThan(1e-6);
    assertThat(IncrementalEncoder.gelu(-1e30f)).isEqualTo(-0f);
    assertThat(IncrementalEncoder.gelu(1e30f)).isEqualTo(1e30f);
  }
}
