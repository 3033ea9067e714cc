package dev.reranker.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DatasetTest {

  static Interaction e(String user, String item, long t) {
    return new Interaction(user, item, t, EventType.VIEW, user + item + t);
  }

  @Test
  void historiesAreChronologicalAndStableOnTies() {
    Dataset d = Dataset.build(List.of(e("u", "c", 30), e("u", "a", 10), e("u", "b", 20),
        e("u", "x", 20), e("v", "a", 5)), 0);
    assertThat(d.itemIdsByUser()).containsExactly(List.of("a", "b", "x", "c"), List.of("a"));
    assertThat(d.items().ids()).containsExactly("a", "b", "x", "c"); // first seen in (user, time)
    assertThat(d.events()).isEqualTo(5);
  }

  @Test
  void kCoreRemovesUntilStable() {
    List<Interaction> events = new ArrayList<>();
    // u1..u3 share items a, b, c (3 each); u4 has a, b and a rare item z; z has 1 event
    for (String u : List.of("u1", "u2", "u3")) {
      for (String i : List.of("a", "b", "c")) {
        events.add(e(u, i, events.size()));
      }
    }
    events.add(e("u4", "a", 100));
    events.add(e("u4", "b", 101));
    events.add(e("u4", "z", 102));
    // 3-core: z goes (1 event), then u4 has 2 events and goes, then a, b, c have 3 each and stay
    Dataset d = Dataset.build(events, 3);
    assertThat(d.users()).extracting(Dataset.UserHistory::userId).containsExactly("u1", "u2", "u3");
    assertThat(d.items().ids()).containsExactly("a", "b", "c");
  }

  @Test
  void syntheticDataPlantsTheLongRangePattern() {
    SyntheticGenerator g = new SyntheticGenerator(SyntheticGenerator.Options.small(3));
    Dataset d = Dataset.build(g.generate(), 0);
    assertThat(d.users()).hasSize(1000);
    for (List<String> items : d.itemIdsByUser()) {
      int n = items.size();
      // ends on a complete episode: … t(k_a), t(k_b), with k_a, k_b further back than the minimum gap
      assertThat(SyntheticGenerator.isTarget(items.get(n - 1))).isTrue();
      assertThat(SyntheticGenerator.isTarget(items.get(n - 2))).isTrue();
      int keyB = items.lastIndexOf(keyOf(g, items.get(n - 1)));
      assertThat(n - 1 - keyB).isGreaterThanOrEqualTo(4 + 2); // minGap + 2
      assertThat(items.subList(0, n - 2)).doesNotContain(items.get(n - 1));
    }
    assertThat(Dataset.build(g.generate(), 0).itemIdsByUser()).isEqualTo(d.itemIdsByUser());
  }

  private static String keyOf(SyntheticGenerator g, String target) {
    for (int k = 0; k < 20; k++) {
      if (g.targetOf(SyntheticGenerator.keyId(k)).equals(target)) {
        return SyntheticGenerator.keyId(k);
      }
    }
    throw new AssertionError("no key for " + target);
  }
}
