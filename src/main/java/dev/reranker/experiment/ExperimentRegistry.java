package dev.reranker.experiment;

import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The experiments this instance knows: defined in configuration, changed through the admin API.
 * Each instance holds its own copy (the same configuration gives the same assignments everywhere);
 * changes made through one instance's admin API must be made on every instance. Thread-safe.
 */
public final class ExperimentRegistry {

  private final Map<String, Experiment> experiments = new ConcurrentHashMap<>();
  private final String defaultId;

  public ExperimentRegistry(Collection<Experiment> initial, String defaultId) {
    for (Experiment e : initial) {
      experiments.put(e.id(), e);
    }
    if (!experiments.containsKey(defaultId)) {
      throw new IllegalArgumentException("the default experiment '" + defaultId
          + "' is not defined");
    }
    this.defaultId = defaultId;
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

  /** Creates an experiment, or changes an existing one's weights (keeping users where it can). */
  public Experiment put(String id, Map<ArmChoice, Double> weights, boolean shadow, Integer k,
      String salt) {
    return experiments.compute(id, (key, old) -> old == null
        ? Experiment.create(id, salt, weights, shadow, k == null ? 10 : k)
        : old.withWeights(weights, shadow));
  }
}
