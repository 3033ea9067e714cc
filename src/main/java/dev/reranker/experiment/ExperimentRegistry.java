package dev.reranker.experiment;

import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The experiments this instance knows: defined in configuration, changed through the admin API.
 * A change is first handed to {@code share} (the {@link ExperimentLog}, which writes it to a topic
 * every instance reads), then applied here; changes other instances made arrive through
 * {@link #apply}. Thread-safe.
 *
 * <p>Each experiment's version is the one at the highest topic offset seen, a change made here
 * counting as seen at the offset its record was written at. The reader replays the topic from
 * the beginning, including this instance's own records: without the offsets, a record written
 * before the latest local change, read after it, put the older version back until the newer
 * record was read too (and an admin change made in that window was built on the older one, its
 * bucket table losing a step of its history).
 */
public final class ExperimentRegistry {

  /** Writes a changed experiment where every instance reads it. */
  @FunctionalInterface
  public interface Sharing {
    /**
     * @return the topic offset the change was written at, or {@link #NOT_SHARED}
     * @throws IllegalStateException when it could not be written (it is then not applied here)
     */
    long share(Experiment e);
  }

  /** The offset of a version not read from, nor written to, the topic. */
  public static final long NOT_SHARED = -1;

  private record Versioned(Experiment experiment, long offset) {}

  private final Map<String, Versioned> experiments = new ConcurrentHashMap<>();
  private final String defaultId;
  private final Sharing sharing;
  /** Serialises admin changes: each builds on the previous one. Not held while reading. */
  private final Object changes = new Object();

  /** A registry of this instance only (changes are not shared). */
  public ExperimentRegistry(Collection<Experiment> initial, String defaultId) {
    this(initial, defaultId, e -> NOT_SHARED);
  }

  /** @param sharing called with each changed experiment before it is applied here */
  public ExperimentRegistry(Collection<Experiment> initial, String defaultId, Sharing sharing) {
    for (Experiment e : initial) {
      experiments.put(e.id(), new Versioned(e, NOT_SHARED));
    }
    if (!experiments.containsKey(defaultId)) {
      throw new IllegalArgumentException("the default experiment '" + defaultId
          + "' is not defined");
    }
    this.defaultId = defaultId;
    this.sharing = sharing;
  }

  public String defaultId() {
    return defaultId;
  }

  /** The experiment, or null. */
  public Experiment get(String id) {
    Versioned v = experiments.get(id);
    return v == null ? null : v.experiment();
  }

  public Collection<Experiment> all() {
    return experiments.values().stream().map(Versioned::experiment).toList();
  }

  /**
   * Creates an experiment, or changes an existing one's weights (keeping users where it can), and
   * shares the result. Serialised: admin changes are rare, and each builds on the previous one.
   */
  public Experiment put(String id, Map<ArmChoice, Double> weights, boolean shadow,
      Integer k, String salt) {
    synchronized (changes) {
      Experiment old = get(id);
      Experiment next = old == null
          ? Experiment.create(id, salt, weights, shadow, k == null ? 10 : k)
          : old.withWeights(weights, shadow);
      if (old != null && k != null && k != next.k()) {
        next = next.withK(k);
      }
      long offset = sharing.share(next);
      if (offset == NOT_SHARED) {
        experiments.put(id, new Versioned(next, NOT_SHARED));
      } else {
        apply(next, offset);
      }
      return next;
    }
  }

  /**
   * An experiment as read from the topic at {@code offset}: replaces this instance's copy unless
   * that came from a later offset. Returns whether it did.
   */
  public boolean apply(Experiment e, long offset) {
    boolean[] applied = {false};
    experiments.compute(e.id(), (id, current) -> {
      if (current != null && current.offset() >= offset) {
        return current;
      }
      applied[0] = true;
      return new Versioned(e, offset);
    });
    return applied[0];
  }
}
