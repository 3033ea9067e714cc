package dev.reranker.training;

import java.io.PrintStream;
import java.time.Duration;

/**
 * A one-line progress display: epoch, step, loss, events/s and the epoch's ETA. On a terminal the
 * line is redrawn in place; otherwise (logs, CI) a line is printed at most every
 * {@value #PLAIN_INTERVAL_MS} ms and at the end of each epoch.
 */
final class ProgressBar {
  private static final int WIDTH = 24;
  private static final long PLAIN_INTERVAL_MS = 10_000;

  private final PrintStream out;
  private final boolean terminal;
  private long lastPrint;

  ProgressBar(PrintStream out, boolean terminal) {
    this.out = out;
    this.terminal = terminal;
  }

  /** A bar for stderr, redrawn in place when stderr is a terminal. */
  static ProgressBar standardError() {
    return new ProgressBar(System.err, System.console() != null);
  }

  void update(int epoch, int epochs, int step, int steps, double loss, double eventsPerSecond,
      double secondsLeftInEpoch) {
    long now = System.currentTimeMillis();
    boolean last = step == steps;
    if (!terminal && !last && now - lastPrint < PLAIN_INTERVAL_MS) {
      return;
    }
    lastPrint = now;
    int filled = steps == 0 ? WIDTH : (int) ((long) WIDTH * step / steps);
    String bar = "#".repeat(filled) + ".".repeat(WIDTH - filled);
    String line = String.format("epoch %d/%d [%s] step %d/%d  loss %.4f  %,.0f events/s  ETA %s",
        epoch, epochs, bar, step, steps, loss, eventsPerSecond,
        format(Duration.ofMillis((long) (secondsLeftInEpoch * 1000))));
    if (terminal) {
      out.print("\r" + line + (last ? "\n" : ""));
    } else {
      out.println(line);
    }
    out.flush();
  }

  void message(String text) {
    out.println(text);
    out.flush();
  }

  private static String format(Duration d) {
    long s = d.toSeconds();
    return String.format("%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
  }
}
