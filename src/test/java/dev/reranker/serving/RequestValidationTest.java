package dev.reranker.serving;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The candidates' duplicate check: the first repeated position, found through the open-addressing
 * table or, when ids are chosen to share hash codes, through the set it falls back to.
 */
class RequestValidationTest {

  @Test
  void findsTheFirstRepeatedPositionAtEverySize() {
    SplittableRandom random = new SplittableRandom(7);
    for (int n : new int[] {1, 2, 3, 15, 16, 17, 500, 10_000}) {
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        ids.add("item-" + i);
      }
      assertThat(RequestValidation.firstDuplicate(ids)).as("n %d, none", n).isEqualTo(-1);
      if (n >= 2) {
        int first = random.nextInt(n - 1);
        int repeat = first + 1 + random.nextInt(n - first - 1);
        List<String> withRepeat = new ArrayList<>(ids);
        withRepeat.set(repeat, new String(ids.get(first))); // equal, not the same object
        assertThat(RequestValidation.firstDuplicate(withRepeat)).as("n %d", n).isEqualTo(repeat);
      }
    }
  }

  /**
   * 4,096 ids that all share one hash code ("Aa" and "BB" hash alike, and so does every string of
   * them): the probes would be quadratic; the check falls back to a set and still answers right.
   */
  @Test
  void idsSharingOneHashCodeStillFindTheDuplicate() {
    List<String> colliding = new ArrayList<>();
    for (int bits = 0; bits < 4096; bits++) {
      StringBuilder b = new StringBuilder();
      for (int j = 0; j < 12; j++) {
        b.append(((bits >> j) & 1) == 0 ? "Aa" : "BB");
      }
      colliding.add(b.toString());
    }
    assertThat(colliding.stream().mapToInt(String::hashCode).distinct().count()).isEqualTo(1);
    assertThat(RequestValidation.firstDuplicate(colliding)).isEqualTo(-1);
    List<String> withRepeat = new ArrayList<>(colliding);
    withRepeat.add(new String(colliding.get(1234)));
    assertThat(RequestValidation.firstDuplicate(withRepeat)).isEqualTo(4096);
  }
}
