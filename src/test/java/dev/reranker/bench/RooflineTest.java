package dev.reranker.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RooflineTest {

  @Test
  void probesMeasureAPositiveRateAndTheFloorTakesTheBindingRoof() {
    Map<String, int[]> shapes = new LinkedHashMap<>();
    shapes.put("small", new int[] {64, 32, 64});
    Roofline roof = Roofline.measure(shapes);
    assertTrue(roof.gflops() > 0 && roof.gigabytesPerSecond() > 0, roof.describe());
    double computeSeconds = 1e9 / (roof.gflops() * 1e9);
    // all compute: the floor is FLOP ÷ rate, and achieving it is a fraction of 1
    assertEquals(computeSeconds, roof.floorSeconds(1e9, 0), 1e-12);
    assertEquals(1.0, roof.fraction(1e9, 0, computeSeconds), 1e-9);
    assertEquals("compute", roof.bound(1e9, 0));
    // all bytes: the memory roof binds
    double memorySeconds = 1e9 / (roof.gigabytesPerSecond() * 1e9);
    assertEquals(memorySeconds, roof.floorSeconds(0, 1e9), 1e-12);
    assertEquals("memory", roof.bound(0, 1e9));
    assertEquals(0.5, roof.fraction(0, 1e9, 2 * memorySeconds), 1e-9);
  }

  @Test
  void encodeFlopCountsMatchTheirDefinitions() {
    // one head, L = c = 2, d = 1, m = 1: projections 2·2·2·1·1 = 8; per position
    // 2·2·1 + 2·2·2 + 4·1·2 = 4 + 8 + 8 = 20, twice: 40 → 48
    assertEquals(48, AttentionBenchmark.favorEncodeFlop(2, 1, 1, 1, 2), 1e-9);
    // chunk longer than the history counts as the history
    assertEquals(AttentionBenchmark.favorEncodeFlop(2, 1, 1, 1, 2),
        AttentionBenchmark.favorEncodeFlop(2, 1, 1, 1, 128), 1e-9);
    // linear in length at a fixed chunk, quadratic for softmax
    double f1 = AttentionBenchmark.favorEncodeFlop(1024, 2, 32, 64, 128);
    double f2 = AttentionBenchmark.favorEncodeFlop(2048, 2, 32, 64, 128);
    assertEquals(2.0, f2 / f1, 1e-9);
    double s1 = AttentionBenchmark.softmaxEncodeFlop(1024, 2, 32);
    double s2 = AttentionBenchmark.softmaxEncodeFlop(2048, 2, 32);
    assertEquals(4.0, s2 / s1, 0.01);
    // 3 positions, causal pairs 6, one head, d 1: 2·2·6 = 24
    assertEquals(24, AttentionBenchmark.softmaxEncodeFlop(3, 1, 1), 1e-9);
  }
}
