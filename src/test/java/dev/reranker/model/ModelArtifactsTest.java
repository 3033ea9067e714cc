package dev.reranker.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reranker.data.IdMap;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

class ModelArtifactsTest {

  static ModelArtifacts.TrainedModel model(Arm arm) {
    ModelConfig config = IncrementalEncoderTest.config(arm);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < config.items(); i++) {
      ids.add("item-" + i);
    }
    return ModelArtifacts.TrainedModel.of(config, IncrementalEncoderTest.perturbed(config),
        IdMap.of(ids), Map.of("seed", 11, "data", "synthetic"), Map.of("ndcg@10", 0.5));
  }

  @Test
  void loadOfSaveIsExact(@TempDir Path dir) throws IOException {
    for (Arm arm : Arm.values()) {
      ModelArtifacts.TrainedModel m = model(arm);
      Path d = dir.resolve(arm.wireName());
      ModelArtifacts.save(m, d);
      ModelArtifacts.TrainedModel back = ModelArtifacts.load(d);
      assertThat(back.version()).isEqualTo(m.version()).startsWith(arm.wireName() + "-");
      assertThat(back.config()).isEqualTo(m.config());
      assertThat(back.items()).isEqualTo(m.items());
      assertThat(back.provenance()).containsEntry("data", "synthetic");
      for (Map.Entry<String, INDArray> e : m.weights().arrays().entrySet()) {
        assertThat(back.weights().get(e.getKey()).data().asFloat()).as(e.getKey())
            .isEqualTo(e.getValue().data().asFloat());
      }
      assertThat(back.weights().projections()).isEqualTo(m.weights().projections());
    }
  }

  @Test
  void tamperedTruncatedOrIncompleteArtifactsAreRefused(@TempDir Path dir) throws IOException {
    ModelArtifacts.TrainedModel m = model(Arm.PERFORMER);
    ModelArtifacts.save(m, dir);
    byte[] weights = Files.readAllBytes(dir.resolve(ModelArtifacts.WEIGHTS));

    weights[100] ^= 1; // one flipped bit
    Files.write(dir.resolve(ModelArtifacts.WEIGHTS), weights);
    assertThatThrownBy(() -> ModelArtifacts.load(dir))
        .isInstanceOf(ModelArtifacts.InvalidArtifactException.class)
        .hasMessageContaining("checksum mismatch for weights.bin");

    weights[100] ^= 1;
    Files.write(dir.resolve(ModelArtifacts.WEIGHTS), java.util.Arrays.copyOf(weights,
        weights.length / 2));
    // a truncated file is caught by its checksum (the message names the file, not just "truncated")
    assertThatThrownBy(() -> ModelArtifacts.load(dir))
        .isInstanceOf(ModelArtifacts.InvalidArtifactException.class)
        .hasMessageContaining("checksum mismatch for weights.bin");

    Files.write(dir.resolve(ModelArtifacts.WEIGHTS), weights);
    assertThat(ModelArtifacts.load(dir).version()).isEqualTo(m.version());
    Files.writeString(dir.resolve(ModelArtifacts.ITEMS), "[\"x\"]\n");
    assertThatThrownBy(() -> ModelArtifacts.load(dir)).hasMessageContaining("items.json");
    Files.delete(dir.resolve(ModelArtifacts.CHECKSUMS));
    assertThatThrownBy(() -> ModelArtifacts.load(dir)).hasMessageContaining("missing "
        + ModelArtifacts.CHECKSUMS);
    assertThatThrownBy(() -> ModelArtifacts.load(dir.resolve("nope")))
        .hasMessageContaining("not a directory");
  }

  @Test
  void theVersionIsContentAddressed() {
    ModelArtifacts.TrainedModel a = model(Arm.SOFTMAX);
    ModelArtifacts.TrainedModel b = model(Arm.SOFTMAX);
    assertThat(a.version()).isEqualTo(b.version());
    b.weights().get(ModelWeights.ITEM_EMBEDDING).putScalar(0, 1.5);
    assertThat(ModelArtifacts.versionOf(b.config(), b.weights())).isNotEqualTo(a.version());
  }
}
