package dev.reranker.experiment;

import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The experiments this instance knows: defined in configuration, changed through the admin API.
 * A change is first handed to {@code share} (the {@link ExperimentLog}, which writes it to a topic
 * every instance reads), then applied here; changes other instances made arrive through
 * {@link #apply}. Thread-safe.
 */
public final class ExperimentRegistry {

  private final Map<String, Experiment> experiments = new ConcurrentHashMap<>();
  private final String defaultId;
  private final Consumer<Experiment> share;

  /** A registry of this instance only (changes are not shared). */
  public ExperimentRegistry(Collection<Experiment> initial, String defaultId) {
    this(initial, defaultId, e -> { });
  }

  /**
   * @param share called with each changed experiment before it is applied; throws when the change
   *     cannot be shared (it is then not applied either)
   */
  public ExperimentRegistry(Collection<Experiment> initial, String defaultId,
      Consumer<Experiment> share) {
    for (Experiment e : initial) {
      experiments.put(e.id(), e);
    }
    if (!experiments.containsKey(defaultId)) {
      throw new IllegalArgumentException("the default experiment '" + defaultId
          + "' is not defined");
    }
    this.defaultId = defaultId;
    this.share = share;
  }

  public String defaultId() {
    return defaultId;
  }

  /** The experiment, or null. */
  public Experiment get(String id) {
    return experiments.get(id);
  }

  public Collection<Experiment> all() {
    return experiments.values();
  }

  /**
   * Creates an experiment, or changes an existing one's weights (keeping users where it can), and
   * shares the result. Serialised: admin changes are rare, and each builds on the previous one.
   */
  public synchronized Experiment put(String id, Map<ArmChoice, Double> weights, boolean shadow,
      Integer k, String salt) {
    Experiment old = experiments.get(id);
    Experiment next = old == null ? Experiment.create(id, salt, weights, shadow, k == null ? 10 : k)
        : old.withWeights(weights, shadow);
    if (old != null && k != null && k != next.k()) {
      next = next.withK(k);
    }
    share.accept(next);
    experiments.put(id, next);
    return next;
  }

  /** An experiment as another instance (or an earlier run) left it: replaces this one's copy. */
  public synchronized void apply(Experiment e) {
    experiments.put(e.id(), e);
  }
}
