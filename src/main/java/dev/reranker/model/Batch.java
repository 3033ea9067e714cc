package dev.reranker.model;

import java.util.List;

/**
 * A batch of event windows, right-padded to a common length T. Rows are (sequence, time), flattened
 * sequence-major into N = size·time positions. Padding sits after each window's last event: with
 * causal attention it can never influence a real position, so no attention mask is needed; losses
 * and outputs simply skip padded positions.
 *
 * @param size B, the number of windows
 * @param time T, the padded length
 * @param items (B·T) item indices, 0 at padding
 * @param indexBuckets (B·T) {@link OrderSignal#indexBucket} of each event's absolute position
 * @param gapBuckets (B·T) {@link OrderSignal#gapBucket} of each event
 * @param lengths (B) real events per window, each ≥ 1
 */
public record Batch(int size, int time, int[] items, int[] indexBuckets, int[] gapBuckets,
    int[] lengths) {

  /**
   * One window: consecutive events of one user.
   *
   * @param items item indices, oldest first
   * @param timestamps epoch ms per event (or {@code Interaction.NO_TIMESTAMP})
   * @param firstPosition the absolute position of {@code items[0]} in the user's whole history
   * @param previousTimestamp the timestamp of the event before the window, or
   *     {@link OrderSignal#NO_PREVIOUS} if the window starts the history
   */
  public record Window(int[] items, long[] timestamps, long firstPosition,
      long previousTimestamp) {
    public Window {
      if (items.length == 0 || items.length != timestamps.length) {
        throw new IllegalArgumentException("a window needs ≥ 1 event and one timestamp per item");
      }
    }

    public int length() {
      return items.length;
    }

    /** The last {@code n} events of a full history (n ≥ its length: all of it). */
    public static Window lastEvents(int[] items, long[] timestamps, int end, int n) {
      int start = Math.max(0, end - n);
      return new Window(java.util.Arrays.copyOfRange(items, start, end),
          java.util.Arrays.copyOfRange(timestamps, start, end), start,
          start == 0 ? OrderSignal.NO_PREVIOUS : timestamps[start - 1]);
    }
  }

  /** Pads windows into a batch (T = the longest window). */
  public static Batch of(List<Window> windows) {
    if (windows.isEmpty()) {
      throw new IllegalArgumentException("a batch needs at least one window");
    }
    int b = windows.size();
    int t = windows.stream().mapToInt(Window::length).max().orElseThrow();
    int[] items = new int[b * t];
    int[] index = new int[b * t];
    int[] gaps = new int[b * t];
    int[] lengths = new int[b];
    for (int s = 0; s < b; s++) {
      Window w = windows.get(s);
      lengths[s] = w.length();
      long previous = w.previousTimestamp();
      for (int i = 0; i < w.length(); i++) {
        int row = s * t + i;
        items[row] = w.items()[i];
        index[row] = OrderSignal.indexBucket(w.firstPosition() + i);
        gaps[row] = OrderSignal.gapBucket(previous, w.timestamps()[i]);
        previous = w.timestamps()[i];
      }
    }
    return new Batch(b, t, items, index, gaps, lengths);
  }

  /** Rows (in N) of each window's last event. */
  public int[] lastRows() {
    int[] rows = new int[size];
    for (int s = 0; s < size; s++) {
      rows[s] = s * time + lengths[s] - 1;
    }
    return rows;
  }

  public int rows() {
    return size * time;
  }
}
