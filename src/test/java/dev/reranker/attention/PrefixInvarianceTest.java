package dev.reranker.attention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Issue 2, test 2: outputs at positions ≤ t do not change when events after t are appended. This is
 * what a stabiliser that looks across time (a max over all positions) breaks. The appended events
 * have large norms on purpose, so any leak of their scale into earlier positions would show.
 */
class PrefixInvarianceTest {

  static final int HEADS = 2;
  static final int DIM = 16;
  static final int PREFIX = 300;
  static final int APPENDED = 200;

  static Stream<Arguments> attentions() {
    FavorProjection w = FavorProjection.orthogonal(64, DIM, 21);
    return Stream.of(
        Arguments.of("FAVOR+ softmax kernel", new FavorAttention(FeatureMap.softmaxKernel(w), 128)),
        Arguments.of("FAVOR+ ReLU kernel", new FavorAttention(FeatureMap.reluKernel(w), 128)),
        Arguments.of("exact softmax", new SoftmaxAttention(128)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("attentions")
  void appendingEventsLeavesEarlierOutputsUnchanged(String name, CausalAttention attention) {
    INDArray q = Arrays3.gaussian(1, 1.0, DataType.FLOAT, HEADS, PREFIX, DIM);
    INDArray k = Arrays3.gaussian(2, 1.0, DataType.FLOAT, HEADS, PREFIX, DIM);
    INDArray v = Arrays3.gaussian(3, 1.0, DataType.FLOAT, HEADS, PREFIX, DIM);
    INDArray before = attention.forward(q, k, v).output();
    for (double scale : List.of(1.0, 6.0)) {
      INDArray q2 = concat(q, Arrays3.gaussian(4, scale, DataType.FLOAT, HEADS, APPENDED, DIM));
      INDArray k2 = concat(k, Arrays3.gaussian(5, scale, DataType.FLOAT, HEADS, APPENDED, DIM));
      INDArray v2 = concat(v, Arrays3.gaussian(6, scale, DataType.FLOAT, HEADS, APPENDED, DIM));
      INDArray after = attention.forward(q2, k2, v2).output()
          .get(all(), interval(0, PREFIX), all());
      // equal up to float rounding (the chunk holding position t is computed with more rows):
      // 1.13e-6 on an Intel Xeon, under 1e-6 on an AMD EPYC (BLAS rounds differently); a
      // stabiliser looking across time would shift the earlier features' exponents by the
      // appended events' scale, far beyond this bound
      assertThat(Arrays3.maxAbsDiff(after, before)).as("%s, appended events of scale %s", name,
          scale).isLessThan(1e-5);
    }
  }

  private static INDArray concat(INDArray a, INDArray b) {
    return org.nd4j.linalg.factory.Nd4j.concat(1, a, b);
  }
}
