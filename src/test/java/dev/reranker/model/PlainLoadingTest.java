package dev.reranker.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reranker.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ModelArtifacts#loadPlain}: the artifact read into plain arrays without ND4J (what the GPU
 * device check runs on) is the same model as the full load, bit for bit, with the same checks.
 */
class PlainLoadingTest {

  @Test
  void foldsBitForBitLikeTheFullLoad() throws Exception {
    Path dir = Path.of("src/main/resources/models/demo-performer");
    PlainWeights plain = ModelArtifacts.loadPlain(dir);
    PlainWeights full = ModelArtifacts.load(dir).plainWeights();
    assertThat(plain.modelVersion()).isEqualTo(full.modelVersion());
    IncrementalEncoder a = new IncrementalEncoder(plain);
    IncrementalEncoder b = new IncrementalEncoder(full);
    EncoderState sa = a.newState();
    EncoderState sb = b.newState();
    for (int i = 0; i < 300; i++) {
      int item = (i * 31) % plain.config().items();
      a.fold(sa, item, 1_000_000L * i);
      b.fold(sb, item, 1_000_000L * i);
    }
    assertThat(sa.toBytes()).isEqualTo(sb.toBytes());
  }

  @Test
  void refusesWeightsThatDoNotFitTheConfig(@TempDir Path tmp) throws Exception {
    ModelArtifacts.TrainedModel m = TestModels.model(Arm.PERFORMER, 3);
    ModelArtifacts.save(m, tmp);
    // the config claims more items than the embedding has rows: consistent checksums, wrong shape
    String json = Files.readString(tmp.resolve(ModelArtifacts.MODEL_JSON))
        .replace("\"items\" : " + TestModels.ITEMS, "\"items\" : " + (TestModels.ITEMS + 1));
    Files.writeString(tmp.resolve(ModelArtifacts.MODEL_JSON), json);
    Files.writeString(tmp.resolve("items.json"), Files.readString(tmp.resolve("items.json"))
        .replace("\"i0\"", "\"extra\", \"i0\""));
    rewriteChecksums(tmp);
    assertThatThrownBy(() -> ModelArtifacts.loadPlain(tmp))
        .isInstanceOf(ModelArtifacts.InvalidArtifactException.class)
        .hasMessageContaining("item_embedding is [60, 32], expected [61, 32]");
  }

  private static void rewriteChecksums(Path dir) throws Exception {
    StringBuilder sb = new StringBuilder();
    for (String name : new String[] {ModelArtifacts.MODEL_JSON, ModelArtifacts.WEIGHTS,
        ModelArtifacts.ITEMS}) {
      sb.append(ModelArtifacts.sha256(Files.readAllBytes(dir.resolve(name)))).append("  ")
          .append(name).append('\n');
    }
    Files.writeString(dir.resolve(ModelArtifacts.CHECKSUMS), sb.toString());
  }
}
