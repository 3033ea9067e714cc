package dev.reranker.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The id ↔ index table against a {@code HashMap} of the same ids. */
class IdMapTest {

  @Test
  void everyIdFindsItsIndexAndNothingElseDoes() {
    SplittableRandom r = new SplittableRandom(7);
    for (int n : new int[] {0, 1, 2, 3, 4, 5, 31, 32, 33, 1000, 20_000}) {
      List<String> ids = new ArrayList<>();
      Map<String, Integer> reference = new HashMap<>();
      while (ids.size() < n) {
        String id = "item-" + r.nextInt(4 * n + 10);
        if (reference.putIfAbsent(id, ids.size()) == null) {
          ids.add(id);
        }
      }
      IdMap map = IdMap.of(ids);
      assertThat(map.size()).isEqualTo(n);
      for (int i = 0; i < n; i++) {
        assertThat(map.indexOf(ids.get(i))).isEqualTo(i);
        assertThat(map.indexOf(new String(ids.get(i)))).isEqualTo(i); // equal, not the same
        assertThat(map.id(i)).isEqualTo(ids.get(i));
      }
      for (int q = 0; q < 2_000; q++) {
        String probe = "item-" + r.nextInt(8 * n + 20);
        assertThat(map.indexOf(probe)).as(probe).isEqualTo(reference.getOrDefault(probe, -1));
      }
      assertThat(map.indexOf("")).isEqualTo(-1);
      assertThat(map.indexOf(null)).isEqualTo(-1);
    }
  }

  @Test
  void idsSharingAHashKeepTheirOwnIndices() {
    // "Aa" and "BB" share String.hashCode, and so does every string of those blocks of a length
    List<String> ids = new ArrayList<>();
    for (int bits = 0; bits < 256; bits++) {
      StringBuilder b = new StringBuilder();
      for (int k = 0; k < 8; k++) {
        b.append((bits >> k & 1) == 0 ? "Aa" : "BB");
      }
      ids.add(b.toString());
    }
    assertThat(ids.stream().mapToInt(String::hashCode).distinct().count()).isEqualTo(1);
    ids.add("other");
    IdMap map = IdMap.of(ids);
    for (int i = 0; i < ids.size(); i++) {
      assertThat(map.indexOf(ids.get(i))).isEqualTo(i);
    }
    assertThat(map.indexOf("AaAaAaAaAaAaAaAB")).isEqualTo(-1);
    assertThat(map.indexOf("AaAaAaAaAaAaAaAaAa")).isEqualTo(-1); // a block longer: unknown
  }

  @Test
  void duplicatesAreRefused() {
    assertThatThrownBy(() -> IdMap.of(List.of("a", "b", "a")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("duplicate id 'a'");
  }

  @Test
  void theBuilderNumbersIdsInFirstSeenOrder() {
    IdMap.Builder b = new IdMap.Builder();
    assertThat(b.add("x")).isZero();
    assertThat(b.add("y")).isEqualTo(1);
    assertThat(b.add("x")).isZero();
    IdMap map = b.build();
    assertThat(map.ids()).containsExactly("x", "y");
    assertThat(map).isEqualTo(IdMap.of(List.of("x", "y")));
  }
}
