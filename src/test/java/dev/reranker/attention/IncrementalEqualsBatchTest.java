package dev.reranker.attention;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Issue 2, test 1: the causal batch output equals the step-by-step incremental output at every
 * position (float32, max abs diff ≤ 1e-4) over ≥ 2,000 steps, for both kernels; chunked equals
 * unchunked.
 */
class IncrementalEqualsBatchTest {

  static final int HEADS = 2;
  static final int HEAD_DIM = 32;
  static final int FEATURES = 64;
  static final int LENGTH = 2_500;
  static final double TOLERANCE = 1e-4;

  @ParameterizedTest
  @EnumSource(FeatureMap.Kernel.class)
  void favorStepsEqualBatchAtEveryPosition(FeatureMap.Kernel kernel) {
    FeatureMap map = FeatureMap.of(kernel, FavorProjection.orthogonal(FEATURES, HEAD_DIM, 11));
    INDArray q = Arrays3.gaussian(1, 1.0, DataType.FLOAT, HEADS, LENGTH, HEAD_DIM);
    INDArray k = Arrays3.gaussian(2, 1.0, DataType.FLOAT, HEADS, LENGTH, HEAD_DIM);
    INDArray v = Arrays3.gaussian(3, 1.0, DataType.FLOAT, HEADS, LENGTH, HEAD_DIM);

    FavorAttention.FavorForward batch = new FavorAttention(map).forward(q, k, v);
    float[] expected = Arrays3.floats(batch.output()); // (heads, length, d_v)

    FavorStepKernel step = new FavorStepKernel(map, HEADS, HEAD_DIM);
    FavorState state = step.newState();
    assertThat(maxStepDiff(step, state, q, k, v, expected)).as("max |step − batch| over %d positions",
        LENGTH).isLessThan(TOLERANCE);
    assertThat(state.position()).isEqualTo(LENGTH);

    // the incremental state is the batch's final state
    FavorState fromBatch = FavorState.fromArray(batch.finalState(), LENGTH);
    double stateDiff = 0;
    double stateScale = 0;
    for (int h = 0; h < HEADS; h++) {
      for (int i = 0; i < FEATURES; i++) {
        stateDiff = Math.max(stateDiff, Math.abs(state.z(h, i) - fromBatch.z(h, i)));
        stateScale = Math.max(stateScale, Math.abs(fromBatch.z(h, i)));
      }
    }
    assertThat(stateDiff / stateScale).as("relative |z_step − z_batch|").isLessThan(1e-5);

    // the whole sequence at once, position-major: the steps' outputs and state to the bit
    FavorState encoded = step.newState();
    float[] out = new float[LENGTH * HEADS * HEAD_DIM];
    step.encode(encoded, positionMajor(q), positionMajor(k), positionMajor(v), LENGTH, out);
    assertThat(encoded.position()).isEqualTo(LENGTH);
    assertThat(maxEncodeDiff(out, expected)).as("max |encode − batch|").isLessThan(TOLERANCE);
    for (int h = 0; h < HEADS; h++) {
      for (int i = 0; i < FEATURES; i++) {
        assertThat(encoded.z(h, i)).isEqualTo(state.z(h, i));
      }
    }
  }

  @Test
  void softmaxStepsEqualBatchAtEveryPosition() {
    INDArray q = Arrays3.gaussian(4, 1.0, DataType.FLOAT, HEADS, LENGTH, HEAD_DIM);
    INDArray k = Arrays3.gaussian(5, 1.0, DataType.FLOAT, HEADS, LENGTH, HEAD_DIM);
    INDArray v = Arrays3.gaussian(6, 1.0, DataType.FLOAT, HEADS, LENGTH, HEAD_DIM);
    float[] expected = Arrays3.floats(new SoftmaxAttention().forward(q, k, v).output());

    SoftmaxStepKernel step = new SoftmaxStepKernel(HEADS, HEAD_DIM, HEAD_DIM);
    SoftmaxKvCache cache = step.newState();
    assertThat(maxStepDiff(step, cache, q, k, v, expected)).as("max |step − batch| over %d positions",
        LENGTH).isLessThan(TOLERANCE);
    assertThat(cache.length()).isEqualTo(LENGTH);
    assertThat(cache.byteSize()).isEqualTo(4L * LENGTH * HEADS * 2 * HEAD_DIM + 8);

    // the cold encode of the whole sequence (tiled in the vector kernels): the batch's outputs,
    // and the cache the steps built
    float[] qRows = positionMajor(q);
    float[] out = new float[qRows.length];
    SoftmaxKvCache encoded = step.newState();
    step.encode(encoded, qRows, positionMajor(k), positionMajor(v), LENGTH, out);
    assertThat(maxEncodeDiff(out, expected)).as("max |encode − batch|").isLessThan(TOLERANCE);
    assertThat(encoded.length()).isEqualTo(LENGTH);
    assertThat(encoded.key(1, LENGTH - 1, 3)).isEqualTo(cache.key(1, LENGTH - 1, 3));
    assertThat(encoded.value(0, 17, 5)).isEqualTo(cache.value(0, 17, 5));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> step.encode(encoded, qRows, qRows,
        qRows, 1, new float[qRows.length])).hasMessageContaining("empty cache");
  }

  @ParameterizedTest
  @EnumSource(FeatureMap.Kernel.class)
  void chunkedEqualsUnchunked(FeatureMap.Kernel kernel) {
    FeatureMap map = FeatureMap.of(kernel, FavorProjection.orthogonal(FEATURES, HEAD_DIM, 12));
    int length = 2_000;
    INDArray q = Arrays3.gaussian(7, 1.0, DataType.FLOAT, HEADS, length, HEAD_DIM);
    INDArray k = Arrays3.gaussian(8, 1.0, DataType.FLOAT, HEADS, length, HEAD_DIM);
    INDArray v = Arrays3.gaussian(9, 1.0, DataType.FLOAT, HEADS, length, HEAD_DIM);
    // chunk ≥ length: one quadratic masked block, no carried state
    INDArray unchunked = new FavorAttention(map, length).forward(q, k, v).output();
    for (int chunk : new int[] {1, 7, 64, 128, 333}) {
      INDArray chunked = new FavorAttention(map, chunk).forward(q, k, v).output();
      assertThat(Arrays3.maxAbsDiff(chunked, unchunked)).as("chunk %d", chunk)
          .isLessThan(TOLERANCE);
    }
  }

  /** max |position-major out − (heads, LENGTH, HEAD_DIM) expected|. */
  private static double maxEncodeDiff(float[] out, float[] expected) {
    double diff = 0;
    for (int t = 0; t < LENGTH; t++) {
      for (int h = 0; h < HEADS; h++) {
        for (int j = 0; j < HEAD_DIM; j++) {
          diff = Math.max(diff, Math.abs(out[(t * HEADS + h) * HEAD_DIM + j]
              - expected[(h * LENGTH + t) * HEAD_DIM + j]));
        }
      }
    }
    return diff;
  }

  /** (heads, length, d) → (length, heads·d): each position's heads side by side. */
  private static float[] positionMajor(INDArray x) {
    float[] src = Arrays3.floats(x);
    float[] out = new float[src.length];
    float[] row = new float[HEADS * HEAD_DIM];
    for (int t = 0; t < LENGTH; t++) {
      System.arraycopy(Arrays3.event(src, HEADS, LENGTH, HEAD_DIM, t, row), 0, out,
          t * HEADS * HEAD_DIM, row.length);
    }
    return out;
  }

  /** Folds every position of (heads, LENGTH, HEAD_DIM) inputs; max |step output − batch output|. */
  private static <S extends AttentionState> double maxStepDiff(StepKernel<S> step, S state,
      INDArray q, INDArray k, INDArray v, float[] expected) {
    float[] qs = Arrays3.floats(q);
    float[] ks = Arrays3.floats(k);
    float[] vs = Arrays3.floats(v);
    float[] qt = new float[HEADS * HEAD_DIM];
    float[] kt = new float[HEADS * HEAD_DIM];
    float[] vt = new float[HEADS * HEAD_DIM];
    float[] out = new float[HEADS * HEAD_DIM];
    double maxDiff = 0;
    for (int t = 0; t < LENGTH; t++) {
      step.step(state, Arrays3.event(qs, HEADS, LENGTH, HEAD_DIM, t, qt),
          Arrays3.event(ks, HEADS, LENGTH, HEAD_DIM, t, kt),
          Arrays3.event(vs, HEADS, LENGTH, HEAD_DIM, t, vt), out);
      for (int h = 0; h < HEADS; h++) {
        for (int j = 0; j < HEAD_DIM; j++) {
          double diff = Math.abs(out[h * HEAD_DIM + j] - expected[(h * LENGTH + t) * HEAD_DIM + j]);
          maxDiff = Math.max(maxDiff, diff);
        }
      }
    }
    return maxDiff;
  }
}
