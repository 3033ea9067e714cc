package dev.reranker.attention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class FavorProjectionTest {

  @Test
  void sameSeedGivesTheSameMatrixBitForBit() {
    FavorProjection a = FavorProjection.orthogonal(100, 16, 42);
    FavorProjection b = FavorProjection.orthogonal(100, 16, 42);
    assertThat(a.weights()).isEqualTo(b.weights());
    assertThat(a).isEqualTo(b);
    assertThat(FavorProjection.orthogonal(100, 16, 43).weights()).isNotEqualTo(a.weights());
  }

  @Test
  void rowsWithinABlockAreOrthogonalAcrossBlocksNot() {
    int d = 16;
    FavorProjection w = FavorProjection.orthogonal(40, d, 1); // blocks of 16, 16 and a partial 8
    for (int block = 0; block < 3; block++) {
      int start = block * d;
      int end = Math.min(40, start + d);
      for (int i = start; i < end; i++) {
        for (int j = start; j < i; j++) {
          assertThat(cosine(w, i, j)).as("rows %d, %d", i, j).isCloseTo(0, within(1e-5));
        }
      }
    }
    double maxAcross = 0;
    for (int i = 0; i < d; i++) {
      for (int j = d; j < 2 * d; j++) {
        maxAcross = Math.max(maxAcross, Math.abs(cosine(w, i, j)));
      }
    }
    assertThat(maxAcross).as("independent blocks are not orthogonal to each other")
        .isGreaterThan(0.1);
  }

  @Test
  void chiNormsVaryAroundSqrtDAndFixedNormsAreExactlySqrtD() {
    int d = 32;
    FavorProjection chi = FavorProjection.orthogonal(256, d, 2);
    FavorProjection fixed = FavorProjection.draw(256, d, 2, FavorProjection.Sampling.ORTHOGONAL,
        FavorProjection.RowNorms.SQRT_D);
    double sum = 0;
    double sumSq = 0;
    for (int i = 0; i < 256; i++) {
      double n = norm(chi, i);
      sum += n * n;
      sumSq += n * n * n * n;
      assertThat(norm(fixed, i)).isCloseTo(Math.sqrt(d), within(1e-4));
    }
    double meanSq = sum / 256; // E‖w‖² = d for χ(d) lengths
    double varSq = sumSq / 256 - meanSq * meanSq; // Var ‖w‖² = 2d
    assertThat(meanSq).isCloseTo(d, within(0.25 * d));
    assertThat(varSq).isGreaterThan(0.5 * d).isLessThan(4.0 * d);
  }

  @Test
  void iidRowsAreNotOrthogonal() {
    FavorProjection iid = FavorProjection.draw(16, 16, 3, FavorProjection.Sampling.IID,
        FavorProjection.RowNorms.CHI);
    double max = 0;
    for (int i = 0; i < 16; i++) {
      for (int j = 0; j < i; j++) {
        max = Math.max(max, Math.abs(cosine(iid, i, j)));
      }
    }
    assertThat(max).isGreaterThan(0.2);
  }

  @Test
  void featuresFewerThanDimension() {
    FavorProjection w = FavorProjection.orthogonal(3, 64, 4);
    assertThat(w.features()).isEqualTo(3);
    assertThat(cosine(w, 0, 1)).isCloseTo(0, within(1e-5));
  }

  @Test
  void binaryRoundTripIsExact() throws IOException {
    FavorProjection w = FavorProjection.draw(70, 16, 5, FavorProjection.Sampling.ORTHOGONAL,
        FavorProjection.RowNorms.SQRT_D);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    w.writeTo(new DataOutputStream(bytes));
    FavorProjection back = FavorProjection.readFrom(new DataInputStream(
        new ByteArrayInputStream(bytes.toByteArray())));
    assertThat(back).isEqualTo(w);
    assertThat(back.weights()).isEqualTo(w.weights());

    byte[] corrupt = bytes.toByteArray();
    corrupt[0] ^= 0x55;
    assertThatThrownBy(() -> FavorProjection.readFrom(new DataInputStream(
        new ByteArrayInputStream(corrupt)))).isInstanceOf(IOException.class)
        .hasMessageContaining("magic");
    byte[] truncated = java.util.Arrays.copyOf(bytes.toByteArray(), 100);
    assertThatThrownBy(() -> FavorProjection.readFrom(new DataInputStream(
        new ByteArrayInputStream(truncated)))).isInstanceOf(IOException.class);
  }

  private static org.assertj.core.data.Offset<Double> within(double x) {
    return org.assertj.core.data.Offset.offset(x);
  }

  private static double norm(FavorProjection w, int i) {
    double s = 0;
    for (int j = 0; j < w.dim(); j++) {
      s += w.weight(i, j) * w.weight(i, j);
    }
    return Math.sqrt(s);
  }

  private static double cosine(FavorProjection w, int a, int b) {
    double s = 0;
    for (int j = 0; j < w.dim(); j++) {
      s += w.weight(a, j) * w.weight(b, j);
    }
    return s / (norm(w, a) * norm(w, b));
  }
}
