package dev.reranker.attention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

class StatesTest {

  @Test
  void favorStateBinaryRoundTripIsExactAndContinuesIdentically() throws IOException {
    FeatureMap map = FeatureMap.softmaxKernel(FavorProjection.orthogonal(16, 8, 1));
    FavorStepKernel step = new FavorStepKernel(map, 2, 8);
    FavorState state = step.newState();
    float[] e = new float[16];
    float[] out = new float[16];
    GaussianSampler g = new GaussianSampler(3);
    for (int t = 0; t < 50; t++) {
      g.fill(e, 1);
      step.step(state, e, e, e, out);
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    state.writeTo(new DataOutputStream(bytes));
    FavorState back = FavorState.readFrom(new DataInputStream(
        new ByteArrayInputStream(bytes.toByteArray())));
    assertThat(back.position()).isEqualTo(50);
    assertThat(back.byteSize()).isEqualTo(state.byteSize()).isEqualTo(4L * 2 * 16 * 9 + 8);
    float[] outA = new float[16];
    float[] outB = new float[16];
    g.fill(e, 1);
    step.step(state, e, e, e, outA);
    step.step(back, e, e, e, outB);
    assertThat(outB).isEqualTo(outA);

    byte[] wrongVersion = bytes.toByteArray();
    wrongVersion[0] = 9;
    assertThatThrownBy(() -> FavorState.readFrom(new DataInputStream(
        new ByteArrayInputStream(wrongVersion)))).hasMessageContaining("version 9");
  }

  @Test
  void favorStateArrayConversionRoundTrips() {
    INDArray s = Arrays3.gaussian(1, 1, DataType.FLOAT, 2, 6, 5);
    FavorState state = FavorState.fromArray(s, 17);
    assertThat(state.heads()).isEqualTo(2);
    assertThat(state.features()).isEqualTo(6);
    assertThat(state.valueDim()).isEqualTo(4);
    assertThat(state.z(1, 3)).isEqualTo(s.getFloat(1, 3, 4));
    assertThat(state.s(1, 3, 2)).isEqualTo(s.getFloat(1, 3, 2));
    assertThat(Arrays3.maxAbsDiff(state.toArray(DataType.FLOAT), s)).isZero();
    FavorState copy = state.copy();
    assertThat(copy.position()).isEqualTo(17);
  }

  @Test
  void kvCacheBuiltInBulkEqualsOneBuiltByStepping() {
    int heads = 2;
    int d = 4;
    int length = 37;
    INDArray k = Arrays3.gaussian(2, 1, DataType.FLOAT, heads, length, d);
    INDArray v = Arrays3.gaussian(3, 1, DataType.FLOAT, heads, length, d);
    SoftmaxStepKernel step = new SoftmaxStepKernel(heads, d, d);
    SoftmaxKvCache stepped = step.newState();
    float[] ks = Arrays3.floats(k);
    float[] vs = Arrays3.floats(v);
    float[] kt = new float[heads * d];
    float[] vt = new float[heads * d];
    float[] out = new float[heads * d];
    for (int t = 0; t < length; t++) {
      step.step(stepped, kt, Arrays3.event(ks, heads, length, d, t, kt), Arrays3.event(vs, heads,
          length, d, t, vt), out);
    }
    SoftmaxKvCache bulk = SoftmaxKvCache.of(k, v);
    assertThat(bulk.length()).isEqualTo(length);
    assertThat(bulk.byteSize()).isEqualTo(stepped.byteSize());
    float[] q = new float[heads * d];
    new GaussianSampler(4).fill(q, 1);
    float[] outA = new float[heads * d];
    float[] outB = new float[heads * d];
    step.step(stepped, q, q, q, outA);
    step.step(bulk, q, q, q, outB);
    assertThat(outB).isEqualTo(outA);
    bulk.truncate(length);
    assertThat(bulk.length()).isEqualTo(length);
  }
}
