package dev.reranker.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The length grid as a standalone SVG: NDCG@10 against the input length read at evaluation (one
 * column per length, whole last), a line per arm and training window, each point with its 95%
 * bootstrap interval. No plotting library: polylines, whiskers and labels.
 */
public final class LengthGridPlot {

  private static final int WIDTH = 820;
  private static final int HEIGHT = 460;
  private static final int LEFT = 70;
  private static final int RIGHT = 230;
  private static final int TOP = 50;
  private static final int BOTTOM = 60;
  private static final String[] COLORS = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

  private LengthGridPlot() {}

  /** {@code cells}: the grid report's cells (arm, train_window, length, ndcg@10, ndcg@10_ci95). */
  public static String svg(List<Map<String, Object>> cells, String title) {
    List<String> lengths = new ArrayList<>();
    Map<String, List<Map<String, Object>>> lines = new LinkedHashMap<>();
    double maxY = 0;
    for (Map<String, Object> c : cells) {
      String length = String.valueOf(c.get("length"));
      if (!lengths.contains(length)) {
        lengths.add(length);
      }
      lines.computeIfAbsent(c.get("arm") + ", trained on " + c.get("train_window"),
          k -> new ArrayList<>()).add(c);
      maxY = Math.max(maxY, ci(c)[1]);
    }
    maxY = maxY <= 0 ? 1 : niceCeiling(maxY);
    int w = WIDTH - LEFT - RIGHT;
    int h = HEIGHT - TOP - BOTTOM;
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
        + "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">%n",
        WIDTH, HEIGHT, WIDTH, HEIGHT));
    b.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n",
        WIDTH, HEIGHT));
    b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"26\" font-size=\"15\" "
        + "font-weight=\"bold\">%s</text>%n", LEFT, escape(title)));
    b.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
        + "fill=\"none\" stroke=\"#444\"/>%n", LEFT, TOP, w, h));
    for (int t = 0; t <= 4; t++) {
      double v = maxY * t / 4;
      double y = TOP + h - h * v / maxY;
      b.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" "
          + "stroke=\"#ddd\"/><text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.3f</text>%n",
          LEFT, LEFT + w, y, y, LEFT - 6, y + 4, v));
    }
    for (int i = 0; i < lengths.size(); i++) {
      b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">"
          + "%s</text>%n", x(i, lengths.size(), w), TOP + h + 18, escape(lengths.get(i))));
    }
    b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">events "
        + "read at evaluation</text>%n", LEFT + w / 2, TOP + h + 40));
    b.append(String.format(Locale.ROOT, "<text x=\"18\" y=\"%d\" transform=\"rotate(-90 18 %d)\" "
        + "text-anchor=\"middle\">test NDCG@10 (95%% CI)</text>%n", TOP + h / 2, TOP + h / 2));
    int index = 0;
    for (Map.Entry<String, List<Map<String, Object>>> line : lines.entrySet()) {
      String color = COLORS[index % COLORS.length];
      boolean dashed = line.getKey().startsWith("softmax");
      StringBuilder points = new StringBuilder();
      double offset = (index - (lines.size() - 1) / 2.0) * 4; // whiskers side by side
      for (Map<String, Object> c : line.getValue()) {
        int i = lengths.indexOf(String.valueOf(c.get("length")));
        double px = x(i, lengths.size(), w) + offset;
        double py = TOP + h - h * ((Number) c.get("ndcg@10")).doubleValue() / maxY;
        double[] ci = ci(c);
        points.append(String.format(Locale.ROOT, "%.1f,%.1f ", px, py));
        b.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" "
            + "y2=\"%.1f\" stroke=\"%s\"/>%n", px, px, TOP + h - h * ci[0] / maxY,
            TOP + h - h * ci[1] / maxY, color));
        b.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" "
            + "fill=\"%s\"/>%n", px, py, color));
      }
      b.append(String.format(Locale.ROOT, "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" "
          + "stroke-width=\"2\"%s/>%n", points.toString().trim(), color,
          dashed ? " stroke-dasharray=\"6 4\"" : ""));
      int ly = TOP + 10 + index * 18;
      b.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" "
          + "stroke=\"%s\" stroke-width=\"2\"%s/><text x=\"%d\" y=\"%d\">%s</text>%n",
          LEFT + w + 12, LEFT + w + 36, ly, ly, color, dashed ? " stroke-dasharray=\"6 4\"" : "",
          LEFT + w + 42, ly + 4, escape(line.getKey())));
      index++;
    }
    b.append("</svg>\n");
    return b.toString();
  }

  private static double[] ci(Map<String, Object> cell) {
    Object v = cell.get("ndcg@10_ci95");
    if (v instanceof double[] d) {
      return d;
    }
    if (v instanceof List<?> l) {
      return new double[] {((Number) l.get(0)).doubleValue(), ((Number) l.get(1)).doubleValue()};
    }
    double m = ((Number) cell.get("ndcg@10")).doubleValue();
    return new double[] {m, m};
  }

  private static double x(int i, int n, int w) {
    return LEFT + w * (i + 0.5) / n;
  }

  private static double niceCeiling(double v) {
    double step = Math.pow(10, Math.floor(Math.log10(v))) / 2;
    return Math.ceil(v / step) * step;
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
