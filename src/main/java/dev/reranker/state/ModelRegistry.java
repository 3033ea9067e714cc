package dev.reranker.state;

import dev.reranker.model.Arm;
import dev.reranker.model.EncoderBackends;
import dev.reranker.model.ModelArtifacts;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The active model of each arm, and its activation: a new version replaces the old one at once
 * (readers see either, never a mix), then each listener hears of it — {@link UserStates} drops the
 * states of the old version, to be rebuilt lazily. An arm without a model is not served.
 */
public final class ModelRegistry {

  private volatile Map<Arm, ActiveModel> models;
  private final EncoderBackends.Settings compute;
  private final CopyOnWriteArrayList<Consumer<ActiveModel>> listeners =
      new CopyOnWriteArrayList<>();

  /** With models activated later on the CPU. */
  public ModelRegistry(Map<Arm, ActiveModel> models) {
    this(models, EncoderBackends.Settings.cpu());
  }

  /** {@code compute}: where models activated later run their batched work. */
  public ModelRegistry(Map<Arm, ActiveModel> models, EncoderBackends.Settings compute) {
    this.compute = compute;
    for (Map.Entry<Arm, ActiveModel> e : models.entrySet()) {
      if (e.getValue().arm() != e.getKey()) {
        throw new IllegalArgumentException("a " + e.getValue().arm().wireName()
            + " model cannot serve the " + e.getKey().wireName() + " arm");
      }
    }
    Map<Arm, ActiveModel> copy = new EnumMap<>(Arm.class);
    copy.putAll(models);
    this.models = Collections.unmodifiableMap(copy);
  }

  /** The arm's active model. @throws IllegalStateException when the arm has none */
  public ActiveModel get(Arm arm) {
    ActiveModel m = models.get(arm);
    if (m == null) {
      throw new IllegalStateException("no model is active for the " + arm.wireName() + " arm");
    }
    return m;
  }

  public boolean has(Arm arm) {
    return models.containsKey(arm);
  }

  /** Every active model by arm (an unmodifiable snapshot: read per event, so not rewrapped). */
  public Map<Arm, ActiveModel> all() {
    return models;
  }

  /**
   * Makes {@code model} its arm's active model; returns the one it replaced (null if none).
   */
  public synchronized ActiveModel activate(ActiveModel model) {
    Map<Arm, ActiveModel> next = new EnumMap<>(Arm.class);
    next.putAll(models);
    ActiveModel previous = next.put(model.arm(), model);
    models = Collections.unmodifiableMap(next);
    for (Consumer<ActiveModel> l : listeners) {
      l.accept(model);
    }
    return previous;
  }

  /** A model loaded for activation, on the backend this registry's models use. */
  public ActiveModel load(ModelArtifacts.TrainedModel model) {
    return new ActiveModel(model, compute);
  }

  /** Called after each activation, on the activating thread. */
  void onActivate(Consumer<ActiveModel> listener) {
    listeners.add(listener);
  }
}
