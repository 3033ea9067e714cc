package dev.reranker.training;

import dev.reranker.data.Dataset;
import dev.reranker.model.Batch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The leave-one-out split of SASRec: per user (with at least {@value #MIN_EVENTS} events) the last
 * event is the test target, the second last the validation target, and training sees only the
 * events before those two. Inputs are windows of at most {@code maxLength} most recent events;
 * positions in a window keep their absolute index in the user's history ({@code OrderSignal}).
 */
public final class LeaveOneOut {

  /** Users with fewer events have no validation or test target and are left out. */
  public static final int MIN_EVENTS = 3;

  private LeaveOneOut() {}

  /**
   * A training sequence: inputs and, per input position, the next item.
   *
   * @param window events s … e−2 of the training part (which ends at e)
   * @param targets items s+1 … e−1
   */
  public record TrainSequence(Batch.Window window, int[] targets) {}

  /**
   * Training windows over each user's training part: its last {@code maxLength} transitions (SASRec)
   * and, with {@code wholeHistory}, the earlier ones too, cut backwards from there into windows of
   * at most {@code maxLength} — every transition is trained on once per epoch.
   */
  public static List<TrainSequence> training(Dataset data, int maxLength, boolean wholeHistory) {
    List<TrainSequence> out = new ArrayList<>();
    for (Dataset.UserHistory u : data.users()) {
      int end = u.length() - 2; // training part: [0, end)
      if (u.length() < MIN_EVENTS || end < 2) {
        continue;
      }
      // inputs are events [start, stop − 1), targets events [start + 1, stop)
      for (int stop = end; stop >= 2; stop -= maxLength) {
        Batch.Window window = Batch.Window.lastEvents(u.items(), u.timestamps(), stop - 1,
            maxLength);
        int start = (int) window.firstPosition();
        out.add(new TrainSequence(window, Arrays.copyOfRange(u.items(), start + 1, stop)));
        if (!wholeHistory) {
          break;
        }
      }
    }
    return out;
  }

  /** Validation cases: input = all but the last two events, target = the second last. */
  public static List<Evaluator.Case> validation(Dataset data, int maxLength) {
    return cases(data, maxLength, 2);
  }

  /** Test cases: input = all but the last event, target = the last. */
  public static List<Evaluator.Case> test(Dataset data, int maxLength) {
    return cases(data, maxLength, 1);
  }

  private static List<Evaluator.Case> cases(Dataset data, int maxLength, int heldOut) {
    List<Evaluator.Case> out = new ArrayList<>();
    for (Dataset.UserHistory u : data.users()) {
      if (u.length() < MIN_EVENTS) {
        continue;
      }
      int cut = u.length() - heldOut;
      Batch.Window window = Batch.Window.lastEvents(u.items(), u.timestamps(), cut, maxLength);
      out.add(new Evaluator.Case(u.userId(), window, u.items()[cut],
          Arrays.copyOfRange(u.items(), 0, cut), u.items()));
    }
    return out;
  }

  /** Item counts over every user's training part (the popularity baseline's scores). */
  public static long[] trainingCounts(Dataset data) {
    long[] counts = new long[data.items().size()];
    for (Dataset.UserHistory u : data.users()) {
      int end = u.length() < MIN_EVENTS ? u.length() : u.length() - 2;
      for (int i = 0; i < end; i++) {
        counts[u.items()[i]]++;
      }
    }
    return counts;
  }
}
