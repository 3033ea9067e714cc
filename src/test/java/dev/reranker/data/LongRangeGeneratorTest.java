package dev.reranker.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The long-range set's promises: every target comes 300–2,000 events after its key, keys never
 * repeat within a user, and the last two events (validation and test under leave-one-out) are
 * targets with no other key pending; the same seed gives the same events.
 */
class LongRangeGeneratorTest {

  static final LongRangeGenerator.Options OPTIONS = new LongRangeGenerator.Options(40, 256, 256,
      2400, 3600, 100, 300, 2000, 3);

  @Test
  void everyTargetFollowsItsKeyFarBackAndTheLastTwoAreTargets() {
    LongRangeGenerator generator = new LongRangeGenerator(OPTIONS);
    Map<String, List<String>> byUser = new LinkedHashMap<>();
    for (Interaction e : generator.generate()) {
      byUser.computeIfAbsent(e.userId(), u -> new ArrayList<>()).add(e.itemId());
    }
    assertThat(byUser).hasSize(40);
    int targets = 0;
    for (Map.Entry<String, List<String>> user : byUser.entrySet()) {
      List<String> items = user.getValue();
      assertThat(items.size()).isBetween(2400 + 2, 3600 + 2);
      Map<String, Integer> keyAt = new HashMap<>();
      Set<String> pending = new HashSet<>();
      for (int p = 0; p < items.size(); p++) {
        String item = items.get(p);
        if (item.startsWith("k")) {
          assertThat(keyAt.put(item, p)).as("%s repeats key %s", user.getKey(), item).isNull();
          pending.add(item);
        } else if (item.startsWith("t")) {
          String key = keyOf(generator, item, keyAt.keySet());
          assertThat(key).as("%s: target %s at %d has no key before it", user.getKey(), item, p)
              .isNotNull();
          assertThat(p - keyAt.get(key)).as("distance from %s to %s", key, item)
              .isBetween(300, 2000);
          pending.remove(key);
          targets++;
        } else {
          assertThat(item).startsWith("n");
        }
        if (p == items.size() - 3) {
          assertThat(pending).as("%s: keys pending before the validation target",
              user.getKey()).hasSize(2);
        }
      }
      assertThat(items.get(items.size() - 1)).startsWith("t");
      assertThat(items.get(items.size() - 2)).startsWith("t");
      assertThat(pending).isEmpty();
    }
    // about one key per 100 events, each with its target: a planted pair every ~100 events
    assertThat(targets).isGreaterThan(40 * 15);
  }

  @Test
  void theSameSeedGivesTheSameEventsAndAnotherSeedOthers() {
    List<Interaction> a = new LongRangeGenerator(OPTIONS).generate();
    assertThat(new LongRangeGenerator(OPTIONS).generate()).isEqualTo(a);
    LongRangeGenerator.Options other = new LongRangeGenerator.Options(40, 256, 256, 2400, 3600,
        100, 300, 2000, 4);
    assertThat(new LongRangeGenerator(other).generate()).isNotEqualTo(a);
  }

  @Test
  void theDataSourceServesItAndRefusesImpossibleOptions() throws Exception {
    assertThat(DataSource.syntheticOptions("synthetic:small:3")).isNotNull();
    List<Interaction> events = new ArrayList<>();
    Object options = DataSource.generateSynthetic("synthetic:long-range:5", events::add);
    assertThat(options).isEqualTo(LongRangeGenerator.Options.standard(5));
    assertThat(events).hasSizeGreaterThan(320 * 2400);
    assertThatThrownBy(() -> DataSource.generateSynthetic("synthetic:long-range:x", e -> { }))
        .hasMessageContaining("must be an integer");
    assertThatThrownBy(() -> new LongRangeGenerator.Options(1, 256, 10, 1000, 1200, 100, 300,
        2000, 1)).hasMessageContaining("longer than maxGap");
    assertThatThrownBy(() -> new LongRangeGenerator.Options(1, 8, 10, 2400, 3600, 100, 300,
        2000, 1)).hasMessageContaining("keys never repeat");
  }

  private static String keyOf(LongRangeGenerator g, String target, Set<String> keys) {
    for (String k : keys) {
      if (g.targetOf(k).equals(target)) {
        return k;
      }
    }
    return null;
  }
}
