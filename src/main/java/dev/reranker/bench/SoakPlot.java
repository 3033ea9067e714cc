package dev.reranker.bench;

import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * The soak's samples as a standalone SVG: three panels over minutes — memory (RSS, heap after
 * GC, live heap after a full GC, native bytes, state cache), p50/p99 latency per interval, and
 * the longest GC pause per interval. No plotting library: a few polylines and tick labels.
 */
final class SoakPlot {

  private static final int WIDTH = 900;
  private static final int PANEL = 220;
  private static final int LEFT = 70;
  private static final int RIGHT = 170;
  private static final int TOP = 40;
  private static final int GAP = 50;

  private record Series(String name, String color, ToDoubleFunction<SoakBenchmark.Sample> f,
      boolean points) {}

  private SoakPlot() {}

  static String svg(List<SoakBenchmark.Sample> samples, String title) {
    int height = TOP + 3 * PANEL + 3 * GAP;
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
        + "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">%n",
        WIDTH, height, WIDTH, height));
    b.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n",
        WIDTH, height));
    b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"24\" font-size=\"15\" "
        + "font-weight=\"bold\">%s</text>%n", LEFT, escape(title)));
    double maxT = samples.isEmpty() ? 1 : samples.get(samples.size() - 1).seconds() / 60;
    panel(b, samples, 0, "memory (MiB)", maxT, List.of(
        new Series("RSS", "#1f77b4", SoakBenchmark.Sample::rssMb, false),
        new Series("heap committed", "#17becf", SoakBenchmark.Sample::heapCommittedMb, false),
        new Series("RocksDB", "#bcbd22", SoakBenchmark.Sample::rocksdbMb, false),
        new Series("other native", "#7f7f7f", SoakBenchmark.Sample::otherNativeMb, false),
        new Series("heap after GC", "#ff7f0e", SoakBenchmark.Sample::heapAfterGcMb, false),
        new Series("live heap (full GC)", "#d62728", SoakBenchmark.Sample::liveHeapMb, true),
        new Series("native (ND4J + direct)", "#2ca02c", s -> s.nativeMb() + s.directMb(), false),
        new Series("state cache", "#9467bd", SoakBenchmark.Sample::cacheMb, false)));
    panel(b, samples, 1, "rerank latency per 10 s (ms)", maxT, List.of(
        new Series("p99", "#d62728", SoakBenchmark.Sample::p99Ms, false),
        new Series("p50", "#1f77b4", SoakBenchmark.Sample::p50Ms, false)));
    panel(b, samples, 2, "longest GC pause per interval (ms)", maxT, List.of(
        new Series("GC pause max", "#8c564b", SoakBenchmark.Sample::gcPauseMaxMs, false)));
    b.append("</svg>\n");
    return b.toString();
  }

  private static void panel(StringBuilder b, List<SoakBenchmark.Sample> samples, int index,
      String label, double maxT, List<Series> series) {
    int top = TOP + GAP / 2 + index * (PANEL + GAP);
    int w = WIDTH - LEFT - RIGHT;
    double maxY = 0;
    for (Series s : series) {
      for (SoakBenchmark.Sample x : samples) {
        double y = s.f().applyAsDouble(x);
        if (Double.isFinite(y)) {
          maxY = Math.max(maxY, y);
        }
      }
    }
    maxY = niceCeiling(maxY);
    b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-weight=\"bold\">%s</text>%n",
        LEFT, top - 8, escape(label)));
    b.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
        + "fill=\"none\" stroke=\"#888\"/>%n", LEFT, top, w, PANEL));
    for (int t = 0; t <= 4; t++) { // y ticks
      double v = maxY * t / 4;
      double y = top + PANEL - PANEL * t / 4.0;
      b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
          + "stroke=\"#eee\"/><text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n", LEFT,
          y, LEFT + w, y, LEFT - 6, y + 4, format(v)));
    }
    int ticks = (int) Math.max(1, Math.min(10, Math.ceil(maxT)));
    for (int t = 0; t <= ticks; t++) { // x ticks, minutes
      double m = maxT * t / ticks;
      double x = LEFT + w * t / (double) ticks;
      b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s"
          + "</text>%n", x, top + PANEL + 16, format(m) + (t == ticks ? " min" : "")));
    }
    int legend = 0;
    for (Series s : series) {
      StringBuilder pts = new StringBuilder();
      for (SoakBenchmark.Sample x : samples) {
        double v = s.f().applyAsDouble(x);
        if (!Double.isFinite(v)) {
          continue;
        }
        double px = LEFT + w * (x.seconds() / 60) / maxT;
        double py = top + PANEL - PANEL * v / maxY;
        if (s.points()) {
          b.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" "
              + "fill=\"%s\"/>%n", px, py, s.color()));
        }
        pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", px, py));
      }
      if (!s.points()) {
        b.append(String.format(Locale.ROOT, "<polyline fill=\"none\" stroke=\"%s\" "
            + "stroke-width=\"1.6\" points=\"%s\"/>%n", s.color(), pts.toString().trim()));
      }
      int ly = top + 14 + 18 * legend++;
      b.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"4\" "
          + "fill=\"%s\"/><text x=\"%d\" y=\"%d\">%s</text>%n", LEFT + w + 10, ly - 4, s.color(),
          LEFT + w + 28, ly, escape(s.name())));
    }
  }

  private static double niceCeiling(double v) {
    if (v <= 0) {
      return 1;
    }
    double p = Math.pow(10, Math.floor(Math.log10(v)));
    for (double m : new double[] {1, 2, 2.5, 5, 10}) {
      if (m * p >= v) {
        return m * p;
      }
    }
    return 10 * p;
  }

  private static String format(double v) {
    return v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v)
        : String.format(Locale.ROOT, "%.1f", v);
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
