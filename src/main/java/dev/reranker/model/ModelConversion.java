package dev.reranker.model;

import dev.reranker.attention.FavorProjection;
import dev.reranker.attention.FeatureMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A Performer made from a softmax-trained model: the Performer paper's backward compatibility
 * (Choromanski et al., ICLR 2021, §4.2: FAVOR+ approximates the softmax kernel, so a Transformer's
 * weights can be reused and only fine-tuned).
 *
 * <p>Every trained weight is copied unchanged; what is added is one FAVOR+ projection per layer
 * (orthogonal random features, m per head, positive softmax-kernel features), drawn from
 * {@code projectionSeed} and then fixed like any Performer's. The converted model is an ordinary
 * artifact: its config is the parent's with arm {@link Arm#PERFORMER}, m, the row norms and the seed
 * of the projections, and its provenance names the parent version, so an experiment can pair a
 * softmax model with its own conversion and measure the attention approximation alone.
 */
public final class ModelConversion {
  private ModelConversion() {}

  /** Provenance key of the parent model's version. */
  public static final String CONVERTED_FROM = "converted_from";

  /**
   * @param softmax a trained model of the softmax arm
   * @param features m, random features per head
   * @param rowNorms the projection's row norms (CHI: the Performer paper's orthogonal features)
   * @param projectionSeed the seed of the projections (the config's seed of the converted model)
   */
  public static ModelArtifacts.TrainedModel toPerformer(ModelArtifacts.TrainedModel softmax,
      int features, FavorProjection.RowNorms rowNorms, long projectionSeed) {
    ModelConfig parent = softmax.config();
    if (parent.arm() != Arm.SOFTMAX) {
      throw new IllegalArgumentException("only a softmax model can be converted; "
          + softmax.version() + " is " + parent.arm().wireName());
    }
    ModelConfig config = new ModelConfig(parent.items(), parent.dim(), parent.layers(),
        parent.heads(), parent.ffnDim(), Arm.PERFORMER, FeatureMap.Kernel.SOFTMAX, features,
        rowNorms, parent.chunk(), parent.dropout(), projectionSeed);
    ModelWeights weights = ModelWeights.of(config, softmax.weights().copy().arrays(),
        ModelWeights.drawProjections(config));
    Map<String, Object> provenance = new LinkedHashMap<>();
    provenance.put(CONVERTED_FROM, softmax.version());
    Map<String, Object> conversion = new LinkedHashMap<>();
    conversion.put("features", features);
    conversion.put("row_norms", rowNorms.name().toLowerCase(java.util.Locale.ROOT));
    conversion.put("projection_seed", projectionSeed);
    conversion.put("kernel", "softmax (positive random features)");
    provenance.put("conversion", conversion);
    provenance.put("parent_provenance", softmax.provenance());
    return ModelArtifacts.TrainedModel.of(config, weights, softmax.items(), provenance,
        Map.of());
  }

  /** The parent version recorded in a model's provenance, or null if it was not converted. */
  public static String parentOf(ModelArtifacts.TrainedModel model) {
    Object parent = model.provenance() == null ? null : model.provenance().get(CONVERTED_FROM);
    return parent == null ? null : parent.toString();
  }

  /**
   * Whether {@code performer} is {@code softmax} converted (fine-tuned or not): the two arms then
   * differ in their attention and what a fine-tune changed, nothing else.
   */
  public static boolean isConversionOf(ModelArtifacts.TrainedModel performer,
      ModelArtifacts.TrainedModel softmax) {
    return performer.config().arm() == Arm.PERFORMER && softmax.config().arm() == Arm.SOFTMAX
        && softmax.version().equals(parentOf(performer));
  }
}
