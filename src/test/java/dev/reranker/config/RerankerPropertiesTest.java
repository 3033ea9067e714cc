package dev.reranker.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reranker.data.Topics;
import dev.reranker.experiment.Experiment;
import dev.reranker.ingest.IngestSettings;
import dev.reranker.model.Arm;
import dev.reranker.state.UserStates;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/**
 * Each default has one home: bound from nothing, the service's settings are exactly the engine
 * types' own defaults; a property set overrides that one value only.
 */
class RerankerPropertiesTest {

  private static RerankerProperties bind(Map<String, String> properties) {
    return new Binder(new MapConfigurationPropertySource(properties))
        .bindOrCreate("reranker", RerankerProperties.class);
  }

  @Test
  void unsetSettingsAreTheEngineDefaults() {
    RerankerProperties p = bind(Map.of());
    assertThat(p.ingest().settings()).isEqualTo(IngestSettings.defaults());
    assertThat(p.state().settings()).isEqualTo(UserStates.Settings.defaults());
    assertThat(p.experiments().defaultId()).isEqualTo(Experiment.DEFAULT_ID);
    assertThat(p.experiments().topic()).isEqualTo(Topics.EXPERIMENTS);
    assertThat(p.ingest().topic()).isEqualTo(Topics.INTERACTIONS);
    assertThat(p.ingest().dlqTopic()).isEqualTo(Topics.DEAD_LETTERS);
    assertThat(p.experiments().joinSettings()).isEqualTo(
        dev.reranker.experiment.OutcomeJoin.Settings.defaults());
    assertThat(p.experiments().reportSettings()).isEqualTo(
        dev.reranker.experiment.AggregateReport.Settings.defaults());
    assertThat(p.computeSettings()).isEqualTo(
        dev.reranker.model.EncoderBackends.Settings.cpu());
  }

  @Test
  void computeSettingsBindAndRefuseWhatTheyDoNotKnow() {
    var s = bind(Map.of("reranker.compute", "auto", "reranker.gpu.math", "TF32",
        "reranker.gpu.cublas-library", "/opt/cuda/libcublas.so.13", "reranker.gpu.max-users",
        "1024")).computeSettings();
    assertThat(s.compute()).isEqualTo(dev.reranker.model.EncoderBackends.Compute.AUTO);
    assertThat(s.mathMode()).isEqualTo(dev.reranker.gpu.Cublas.MathMode.TF32);
    assertThat(s.maxUsers()).isEqualTo(1024);
    assertThat(s.gpu().cublasCandidates()).containsExactly("/opt/cuda/libcublas.so.13");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> bind(Map.of("reranker.gpu.math",
        "bf16")).computeSettings()).hasMessage("reranker.gpu.math must be fp32 or tf32, got "
        + "'bf16'");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> bind(Map.of("reranker.compute",
        "cuda")).computeSettings()).hasMessageContaining("must be cpu, gpu or auto");
  }

  @Test
  void experimentSettingsOverrideOnlyThemselves() {
    RerankerProperties p = bind(Map.of("reranker.experiments.horizon", "2h",
        "reranker.experiments.target-mde", "0.005"));
    var join = p.experiments().joinSettings();
    assertThat(join.horizon()).isEqualTo(Duration.ofHours(2));
    assertThat(join.sweepEvery()).isEqualTo(
        dev.reranker.experiment.OutcomeJoin.Settings.defaults().sweepEvery());
    assertThat(join.exposuresTopic()).isEqualTo(Topics.EXPOSURES);
    var report = p.experiments().reportSettings();
    assertThat(report.targetMde()).isEqualTo(0.005);
    assertThat(report.tau()).isEqualTo(
        dev.reranker.experiment.AggregateReport.Settings.defaults().tau());
  }

  @Test
  void aSetPropertyOverridesOnlyItself() {
    RerankerProperties p = bind(Map.of("reranker.ingest.history-limit", "500",
        "reranker.ingest.eager-arms", "performer,softmax",
        "reranker.state.softmax-window", "30", "reranker.state.snapshot-interval", "5s"));
    IngestSettings d = IngestSettings.defaults();
    IngestSettings i = p.ingest().settings();
    assertThat(i.historyLimit()).isEqualTo(500);
    assertThat(i.eagerArms()).isEqualTo(Set.of(Arm.PERFORMER, Arm.SOFTMAX));
    assertThat(i.withHistoryLimit(d.historyLimit())).isNotEqualTo(d); // eager arms differ
    assertThat(i.maxRecordBytes()).isEqualTo(d.maxRecordBytes());
    assertThat(i.flushInterval()).isEqualTo(d.flushInterval());
    UserStates.Settings s = p.state().settings();
    assertThat(s.softmaxWindow()).isEqualTo(30);
    assertThat(s.snapshotInterval()).isEqualTo(Duration.ofSeconds(5));
    assertThat(s.snapshotEveryEvents())
        .isEqualTo(UserStates.Settings.defaults().snapshotEveryEvents());
  }
}
