package dev.reranker.experiment;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The registry keeps, per experiment, the version at the highest topic offset it has seen: the
 * reader replaying this instance's own earlier records never puts an older version back.
 */
class ExperimentRegistryTest {

  /** Stands in for the topic: records written get offsets 0, 1, 2, … in order. */
  private final List<Experiment> topic = new ArrayList<>();
  private final ExperimentRegistry registry = new ExperimentRegistry(
      List.of(Experiment.standard("default")), "default", e -> {
        topic.add(e);
        return topic.size() - 1;
      });

  @Test
  void ownRecordReadBackAfterALaterChangeDoesNotPutTheOlderVersionBack() {
    Experiment first = registry.put("default", Map.of(ArmChoice.PERFORMER, 50.0,
        ArmChoice.SOFTMAX, 30.0, ArmChoice.FALLBACK, 20.0), false, null, null);
    Experiment second = registry.put("default", Map.of(ArmChoice.PERFORMER, 60.0,
        ArmChoice.SOFTMAX, 20.0, ArmChoice.FALLBACK, 20.0), false, null, null);
    assertThat(second.allocation().encode()).isNotEqualTo(first.allocation().encode());

    // the reader now reads both records in topic order
    assertThat(registry.apply(topic.get(0), 0)).isFalse();
    assertThat(registry.get("default")).isSameAs(second);
    assertThat(registry.apply(topic.get(1), 1)).isFalse();
    assertThat(registry.get("default")).isSameAs(second);

    // the next change builds on the second, not on the first
    Experiment third = registry.put("default", Map.of(ArmChoice.PERFORMER, 100.0), false, null,
        null);
    assertThat(third.allocation().encode()).isEqualTo(second.withWeights(
        Map.of(ArmChoice.PERFORMER, 100.0), false).allocation().encode());
  }

  @Test
  void anotherInstancesLaterRecordReplacesTheLocalChange() {
    registry.put("default", Map.of(ArmChoice.PERFORMER, 50.0, ArmChoice.SOFTMAX, 50.0), false,
        null, null);
    Experiment theirs = Experiment.standard("default").withWeights(
        Map.of(ArmChoice.SOFTMAX, 100.0), false);
    assertThat(registry.apply(theirs, 7)).isTrue();
    assertThat(registry.get("default")).isSameAs(theirs);
    // and one written before ours, read late, does not
    assertThat(registry.apply(Experiment.standard("default"), 3)).isFalse();
    assertThat(registry.get("default")).isSameAs(theirs);
  }

  @Test
  void aDefinitionFromConfigurationGivesWayToAnyRecord() {
    Experiment fromTopic = Experiment.standard("default").withWeights(
        Map.of(ArmChoice.FALLBACK, 100.0), false);
    assertThat(registry.apply(fromTopic, 0)).isTrue();
    assertThat(registry.get("default")).isSameAs(fromTopic);
  }
}
