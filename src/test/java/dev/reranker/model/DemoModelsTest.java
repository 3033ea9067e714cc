package dev.reranker.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reranker.data.DataSource;
import dev.reranker.data.Dataset;
import dev.reranker.data.InteractionReaders;
import dev.reranker.training.Evaluator;
import dev.reranker.training.LeaveOneOut;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The demo models bundled in the jar load from the classpath with verified checksums, say how they
 * were made, and still score exactly the test metrics recorded when they were trained (a golden
 * check of artifact, data generator and forward pass). {@code train-demo} regenerates them.
 */
class DemoModelsTest {

  @ParameterizedTest
  @EnumSource(Arm.class)
  void bundledDemoModelReproducesItsRecordedMetrics(Arm arm) throws Exception {
    ModelArtifacts.TrainedModel m = ModelArtifacts.loadResource("models/demo-" + arm.wireName());
    assertThat(m.config().arm()).isEqualTo(arm);
    assertThat(m.version()).startsWith(arm.wireName() + "-");
    assertThat(m.provenance()).containsEntry("data", "synthetic:demo").containsKeys("seed",
        "git_commit", "trained_at", "training");
    Dataset data = new DataSource("synthetic:demo", InteractionReaders.Format.JSONL, 0).load()
        .dataset().withItemIds(m.items());
    Evaluator.Metrics now = Evaluator.evaluate(Evaluator.modelScorer(m.sequenceModel()),
        LeaveOneOut.test(data, 200), m.config().items(), 256, 42);
    @SuppressWarnings("unchecked")
    Map<String, Object> recorded = (Map<String, Object>) m.metrics().get("test");
    assertThat(now.hr()).isCloseTo(((Number) recorded.get("hr@10")).doubleValue(),
        org.assertj.core.data.Offset.offset(1e-6));
    assertThat(now.ndcg()).isCloseTo(((Number) recorded.get("ndcg@10")).doubleValue(),
        org.assertj.core.data.Offset.offset(1e-6));
    assertThat(now.hr()).isGreaterThan(0.9); // the planted long-range pattern
  }
}
