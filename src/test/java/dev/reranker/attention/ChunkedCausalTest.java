package dev.reranker.attention;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The chunked causal form runs every chunk of a slab in a few batched products and carries the
 * state from slab to slab: whatever the length (padded last chunk or not), the slab size (one slab,
 * or one chunk per slab) and the starting state, it equals the definition out_i = q'_iᵀ S_i /
 * (q'_iᵀ z_i + δ), computed here position by position in double.
 */
class ChunkedCausalTest {

  static final int BATCH = 3;
  static final int FEATURES = 8;
  static final int VALUE_DIM = 5;

  static Stream<Arguments> shapes() {
    return Stream.of(
        Arguments.of(1, 16, CausalLinearAttention.SLAB_ELEMENTS),
        Arguments.of(7, 16, CausalLinearAttention.SLAB_ELEMENTS),
        Arguments.of(200, 16, CausalLinearAttention.SLAB_ELEMENTS), // 13 chunks of 16, 8 padded
        Arguments.of(301, 64, CausalLinearAttention.SLAB_ELEMENTS), // 5 chunks of 61, 4 padded
        Arguments.of(301, 64, 1L), // one chunk per slab
        Arguments.of(1000, 32, 3L * BATCH * 32 * 32)); // three chunks per slab, a shorter last
  }

  @ParameterizedTest(name = "L={0}, C={1}, slab elements {2}")
  @MethodSource("shapes")
  void equalsTheDefinition(int length, int chunk, long slabElements) {
    INDArray q = positive(1, length, FEATURES);
    INDArray k = positive(2, length, FEATURES);
    INDArray v = Arrays3.gaussian(3, 1.0, DataType.FLOAT, BATCH, length, VALUE_DIM);
    INDArray initial = Transforms.abs(Arrays3.gaussian(4, 1.0, DataType.FLOAT, BATCH, FEATURES,
        VALUE_DIM + 1));
    for (INDArray start : new INDArray[] {null, initial}) {
      CausalLinearAttention.Forward f = new CausalLinearAttention(chunk, slabElements)
          .causal(q, k, v, start);
      double[][][] expectedState = new double[BATCH][FEATURES][VALUE_DIM + 1];
      double worstOut = 0;
      for (int b = 0; b < BATCH; b++) {
        for (int i = 0; i < FEATURES; i++) {
          for (int j = 0; j <= VALUE_DIM; j++) {
            expectedState[b][i][j] = start == null ? 0 : start.getDouble(b, i, j);
          }
        }
        for (int t = 0; t < length; t++) {
          for (int i = 0; i < FEATURES; i++) {
            double ki = k.getDouble(b, t, i);
            for (int j = 0; j < VALUE_DIM; j++) {
              expectedState[b][i][j] += ki * v.getDouble(b, t, j);
            }
            expectedState[b][i][VALUE_DIM] += ki;
          }
          double den = CausalLinearAttention.DENOMINATOR_EPSILON;
          double[] num = new double[VALUE_DIM];
          for (int i = 0; i < FEATURES; i++) {
            double qi = q.getDouble(b, t, i);
            den += qi * expectedState[b][i][VALUE_DIM];
            for (int j = 0; j < VALUE_DIM; j++) {
              num[j] += qi * expectedState[b][i][j];
            }
          }
          for (int j = 0; j < VALUE_DIM; j++) {
            worstOut = Math.max(worstOut, Math.abs(num[j] / den - f.output().getDouble(b, t, j)));
          }
        }
      }
      double worstState = 0;
      for (int b = 0; b < BATCH; b++) {
        for (int i = 0; i < FEATURES; i++) {
          for (int j = 0; j <= VALUE_DIM; j++) {
            double e = expectedState[b][i][j];
            worstState = Math.max(worstState, Math.abs(e - f.finalState().getDouble(b, i, j))
                / Math.max(1, Math.abs(e)));
          }
        }
      }
      String what = start == null ? "from zero" : "from a state";
      assertThat(worstOut).as("max |out − definition|, %s", what).isLessThan(1e-5);
      assertThat(worstState).as("max relative |S' − definition|, %s", what).isLessThan(1e-5);
    }
  }

  @Test
  void chunksAreMadeEqualRatherThanPadded() {
    CausalLinearAttention a = new CausalLinearAttention(128);
    assertThat(a.chunkLength(1)).isEqualTo(1);
    assertThat(a.chunkLength(128)).isEqualTo(128);
    assertThat(a.chunkLength(200)).isEqualTo(100);
    assertThat(a.chunkLength(16_384)).isEqualTo(128);
    assertThat(a.chunkLength(257)).isEqualTo(86); // 3 chunks, 1 position of padding (not 127)
  }

  /** Positive features, as the feature maps give: |gaussian| + 0.01. */
  private static INDArray positive(long seed, int length, int width) {
    return Transforms.abs(Arrays3.gaussian(seed, 1.0, DataType.FLOAT, BATCH, length, width))
        .addi(0.01);
  }
}
