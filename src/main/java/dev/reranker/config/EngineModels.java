package dev.reranker.config;

import dev.reranker.model.Arm;
import dev.reranker.model.EncoderBackends;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.state.ActiveModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Loads the configured model artifact of each arm (checksums verified). */
public final class EngineModels {
  private static final Logger log = LoggerFactory.getLogger(EngineModels.class);

  private EngineModels() {}

  public static Map<Arm, ActiveModel> load(RerankerProperties.Models models) {
    return load(models, EncoderBackends.Settings.cpu());
  }

  /** Each arm's model with its batched work on the backend {@code compute} chooses. */
  public static Map<Arm, ActiveModel> load(RerankerProperties.Models models,
      EncoderBackends.Settings compute) {
    Map<Arm, ActiveModel> out = new EnumMap<>(Arm.class);
    put(out, Arm.PERFORMER, models.performer(), compute);
    put(out, Arm.SOFTMAX, models.softmax(), compute);
    if (out.isEmpty()) {
      throw new IllegalStateException("no model configured: set reranker.models.performer and/or "
          + "reranker.models.softmax");
    }
    return out;
  }

  /** Loads a model from a directory or {@code classpath:} location. */
  public static ModelArtifacts.TrainedModel load(String location) throws IOException {
    return location.startsWith("classpath:")
        ? ModelArtifacts.loadResource(location.substring("classpath:".length()))
        : ModelArtifacts.load(Path.of(location));
  }

  private static void put(Map<Arm, ActiveModel> out, Arm arm, String location,
      EncoderBackends.Settings compute) {
    if (location == null || location.isBlank()) {
      return;
    }
    try {
      ModelArtifacts.TrainedModel model = load(location);
      if (model.config().arm() != arm) {
        throw new IllegalStateException("reranker.models." + arm.wireName() + " (" + location
            + ") holds a " + model.config().arm().wireName() + " model");
      }
      out.put(arm, new ActiveModel(model, compute));
      log.info("loaded {} model {} from {}; one-event folds in the {} float kernels ({})",
          arm.wireName(), model.version(), location,
          dev.reranker.attention.FloatKernels.preferred().name(),
          dev.reranker.attention.FloatKernels.choiceReason());
    } catch (IOException e) {
      throw new IllegalStateException("cannot load the " + arm.wireName() + " model from "
          + location + ": " + e.getMessage(), e);
    }
  }
}
