package dev.reranker.state;

import dev.reranker.model.Arm;
import java.util.Optional;

/**
 * The one way a request reads users' states: brought current with their stored history, copied
 * under the entry's lock ({@link StateView}). The implementation behind it folds pending events
 * exactly as the ingestion does (see {@link UserStates}); where histories come from is its
 * business (in the service: the ingestion's stores through interactive queries).
 *
 * <p>Every read may throw {@link StateUnavailableException} when the stores cannot be read.
 */
public interface StateReader {

  /** The models requests score with. */
  ModelRegistry models();

  /** W: the softmax baseline's window, which a stateless request's history must match. */
  int softmaxWindow();

  /** The user's state for the arm, brought current; empty when the user has no history. */
  Optional<StateView> read(String userId, Arm arm);

  /**
   * {@link #read} when bringing the state current is cheap enough for a request's own thread (a
   * cached state with a few pending events at most), else {@link Cheap.NotCheap}.
   */
  Cheap readIfCheap(String userId, Arm arm);

  /** What {@link #readIfCheap} found. */
  sealed interface Cheap {
    /** The user's state, brought current on the caller's thread. */
    record Current(StateView view) implements Cheap {
      public Current {
        java.util.Objects.requireNonNull(view, "view");
      }
    }

    /** The user has no history. */
    record NoHistory() implements Cheap {}

    /** Catching up is not cheap: it belongs where a deadline can abandon it. */
    record NotCheap() implements Cheap {}

    Cheap NO_HISTORY = new NoHistory();
    Cheap NOT_CHEAP = new NotCheap();
  }
}
