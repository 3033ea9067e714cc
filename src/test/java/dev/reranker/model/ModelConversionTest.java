package dev.reranker.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reranker.attention.FavorProjection;
import dev.reranker.attention.FavorState;
import dev.reranker.data.IdMap;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A softmax model converted to a Performer keeps every trained weight, adds fixed FAVOR+
 * projections, names its parent, and behaves as any Performer: its incremental state equals its
 * batch encoding.
 */
class ModelConversionTest {

  static ModelArtifacts.TrainedModel softmaxModel() {
    ModelConfig config = IncrementalEncoderTest.config(Arm.SOFTMAX);
    ModelWeights weights = IncrementalEncoderTest.perturbed(config);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < config.items(); i++) {
      ids.add("i" + i);
    }
    return ModelArtifacts.TrainedModel.of(config, weights, IdMap.of(ids),
        Map.of("seed", 11, "training", Map.of("max_length", 200)), Map.of("epochs_run", 30));
  }

  @Test
  void keepsEveryWeightAndAddsFixedProjectionsPerLayer() {
    ModelArtifacts.TrainedModel parent = softmaxModel();
    ModelArtifacts.TrainedModel converted = ModelConversion.toPerformer(parent, 48,
        FavorProjection.RowNorms.CHI, 5);

    assertThat(converted.config().arm()).isEqualTo(Arm.PERFORMER);
    assertThat(converted.config().features()).isEqualTo(48);
    assertThat(converted.config().seed()).isEqualTo(5);
    assertThat(converted.config().dim()).isEqualTo(parent.config().dim());
    assertThat(converted.weights().projections()).hasSize(parent.config().layers());
    for (Map.Entry<String, INDArray> e : parent.weights().arrays().entrySet()) {
      assertThat(converted.weights().get(e.getKey())).as(e.getKey()).isEqualTo(e.getValue());
      assertThat(converted.weights().get(e.getKey())).as("a copy, not the parent's array")
          .isNotSameAs(e.getValue());
    }
    assertThat(converted.version()).startsWith("performer-");
    assertThat(ModelConversion.parentOf(converted)).isEqualTo(parent.version());
    assertThat(ModelConversion.parentOf(parent)).isNull();
    assertThat(ModelConversion.isConversionOf(converted, parent)).isTrue();
    ModelConfig otherConfig = ModelConfig.builder(parent.config().items(), Arm.SOFTMAX).dim(32)
        .ffnDim(64).seed(12).build();
    ModelArtifacts.TrainedModel other = ModelArtifacts.TrainedModel.of(otherConfig,
        ModelWeights.initialize(otherConfig), parent.items(), Map.of(), Map.of());
    assertThat(ModelConversion.isConversionOf(converted, other)).isFalse();
    assertThat(ModelConversion.isConversionOf(converted, converted)).isFalse();

    // the projections are part of the content: another m or seed is another model
    assertThat(ModelConversion.toPerformer(parent, 48, FavorProjection.RowNorms.CHI, 5).version())
        .isEqualTo(converted.version());
    assertThat(ModelConversion.toPerformer(parent, 48, FavorProjection.RowNorms.CHI, 6).version())
        .isNotEqualTo(converted.version());
    assertThat(ModelConversion.toPerformer(parent, 32, FavorProjection.RowNorms.CHI, 5).version())
        .isNotEqualTo(converted.version());
  }

  @Test
  void incrementalStateOfAConvertedModelEqualsItsBatchEncoding() {
    ModelArtifacts.TrainedModel converted = ModelConversion.toPerformer(softmaxModel(), 32,
        FavorProjection.RowNorms.CHI, 5);
    ModelConfig config = converted.config();
    SequenceModel batched = converted.sequenceModel();
    IncrementalEncoder encoder = new IncrementalEncoder(converted.plainWeights());
    int events = IncrementalEncoderTest.EVENTS;
    int[] items = new int[events];
    long[] times = IncrementalEncoderTest.history(events, items, config.items(), 9);

    EncoderState folded = encoder.newState();
    double maxDiff = IncrementalEncoderTest.foldAgainstBatch(batched, encoder, folded, items,
        times);
    assertThat(maxDiff).as("max |folded − batch| user vector over %d events", events)
        .isLessThan(1e-4);

    EncoderState encoded = IncrementalEncoder.encode(batched, converted.version(), items, times);
    for (int l = 0; l < config.layers(); l++) {
      assertThat(IncrementalEncoderTest.relativeZDiff((FavorState) folded.layer(l),
          (FavorState) encoded.layer(l), config)).as("layer %d z", l).isLessThan(1e-4);
    }
    assertThat(folded.byteSize()).as("a Performer's constant-size state")
        .isEqualTo(encoder.newState().byteSize());
  }

  @Test
  void roundTripsAsAnArtifactWithItsLineage(@TempDir Path dir) throws Exception {
    ModelArtifacts.TrainedModel parent = softmaxModel();
    ModelArtifacts.TrainedModel converted = ModelConversion.toPerformer(parent, 32,
        FavorProjection.RowNorms.CHI, 5);
    ModelArtifacts.save(converted, dir);
    ModelArtifacts.TrainedModel back = ModelArtifacts.load(dir);
    assertThat(back.version()).isEqualTo(converted.version());
    assertThat(back.config()).isEqualTo(converted.config());
    assertThat(ModelConversion.parentOf(back)).isEqualTo(parent.version());
    assertThat(back.weights().projections()).hasSize(2);
  }

  @Test
  void refusesAModelThatIsAlreadyAPerformer() {
    ModelArtifacts.TrainedModel converted = ModelConversion.toPerformer(softmaxModel(), 32,
        FavorProjection.RowNorms.CHI, 5);
    assertThatThrownBy(() -> ModelConversion.toPerformer(converted, 32,
        FavorProjection.RowNorms.CHI, 5)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("only a softmax model can be converted");
  }
}
