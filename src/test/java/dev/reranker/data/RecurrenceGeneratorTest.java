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
 * The recurrence set's promises: each user owns at most K recurring items, each recurrence follows
 * the item's previous occurrence by a gap in range, the filler steps +1 between them, and the last
 * two events are recurrences whose previous occurrence is a final gap back with none in between —
 * for long users ≥ 300 events, so the last 200 events of the test input never hold the answer.
 */
class RecurrenceGeneratorTest {

  static final RecurrenceGenerator.Options OPTIONS = new RecurrenceGenerator.Options(64, 4, 32,
      new RecurrenceGenerator.Cohort(50, 60, 64, 2, 16, 5, 40, 10),
      new RecurrenceGenerator.Cohort(8, 2100, 2600, 2, 2000, 300, 2000, 600), 5);

  @Test
  void recurrencesKeepTheirGapsAndTheLastTwoAreFarBackForLongUsers() {
    Map<String, List<String>> byUser = byUser(new RecurrenceGenerator(OPTIONS).generate());
    assertThat(byUser).hasSize(58);
    int recurrences = 0;
    for (Map.Entry<String, List<String>> user : byUser.entrySet()) {
      boolean isLong = RecurrenceGenerator.isLongUser(user.getKey());
      RecurrenceGenerator.Cohort cohort = isLong ? OPTIONS.longUsers() : OPTIONS.shortUsers();
      List<String> items = user.getValue();
      int n = items.size();
      assertThat(n).isBetween(cohort.minLength() + 2, cohort.maxLength() + 2);
      Map<String, Integer> lastAt = new HashMap<>();
      Set<String> owned = new HashSet<>();
      int previousFiller = -1;
      for (int p = 0; p < n; p++) {
        String item = items.get(p);
        if (item.startsWith("r")) {
          owned.add(item);
          Integer last = lastAt.put(item, p);
          if (last != null) {
            recurrences++;
            int gap = p - last;
            if (p >= n - 2) {
              assertThat(gap).as("%s: final gap of %s", user.getKey(), item)
                  .isBetween(cohort.minFinalGap(), cohort.maxFinalGap());
            } else {
              // a taken slot moves an occurrence later, never earlier
              assertThat(gap).as("%s: gap of %s at %d", user.getKey(), item, p)
                  .isGreaterThanOrEqualTo(cohort.minGap());
            }
          }
        } else {
          assertThat(item).startsWith("f");
          int filler = Integer.parseInt(item.substring(1));
          if (previousFiller >= 0) {
            assertThat(filler).as("%s: the filler walks +1", user.getKey())
                .isEqualTo((previousFiller + 1) % OPTIONS.fillerItems());
          }
          previousFiller = filler;
        }
      }
      assertThat(owned.size()).isLessThanOrEqualTo(OPTIONS.perUser());
      String validation = items.get(n - 2);
      String test = items.get(n - 1);
      assertThat(validation).startsWith("r").isNotEqualTo(test);
      assertThat(test).startsWith("r");
      if (isLong) {
        // the test input is everything before the last event: its last 200 never hold the answer
        assertThat(items.subList(n - 1 - 200, n - 1)).as("%s: the last 200 input events",
            user.getKey()).doesNotContain(test);
        assertThat(items.subList(n - 2 - 200, n - 2)).doesNotContain(validation);
      }
      assertThat(items.subList(0, n - 1)).as("the answer was seen before").contains(test);
    }
    assertThat(recurrences).isGreaterThan(58 * 4);
  }

  /** synthetic:long-range's shape: the old items end a final gap before the test, far apart. */
  @Test
  void changingInterestsKeepOldAndCurrentItemsMoreThanASeparationApart() {
    RecurrenceGenerator.Cohort changing = new RecurrenceGenerator.Cohort(12, 2100, 2600, 2, 16,
        300, 2000, 10, 201);
    RecurrenceGenerator.Options options = new RecurrenceGenerator.Options(64, 4, 32,
        OPTIONS.shortUsers(), changing, 9);
    Map<String, List<String>> byUser = byUser(new RecurrenceGenerator(options).generate());
    int longUsers = 0;
    for (Map.Entry<String, List<String>> user : byUser.entrySet()) {
      if (!RecurrenceGenerator.isLongUser(user.getKey())) {
        continue;
      }
      longUsers++;
      List<String> items = user.getValue();
      int n = items.size();
      String test = items.get(n - 1);
      String validation = items.get(n - 2);
      int previous = items.subList(0, n - 1).lastIndexOf(test);
      assertThat(n - 1 - previous).as("%s: the test item's final gap", user.getKey())
          .isBetween(changing.minFinalGap(), changing.maxFinalGap());
      // old items: those seen up to the test item's previous occurrence; current: after it
      Set<String> old = new HashSet<>();
      Set<String> current = new HashSet<>();
      int lastOld = -1;
      int firstCurrent = Integer.MAX_VALUE;
      for (int p = 0; p < n - 1; p++) {
        String item = items.get(p);
        if (!item.startsWith("r")) {
          continue;
        }
        if (p <= previous) {
          old.add(item);
          lastOld = p;
        } else {
          current.add(item);
          firstCurrent = Math.min(firstCurrent, p);
        }
      }
      assertThat(old).as("%s: two old items", user.getKey()).hasSize(2).contains(test);
      assertThat(current).as("%s: two current items, none old", user.getKey()).hasSize(2)
          .doesNotContainAnyElementsOf(old).contains(validation);
      assertThat(lastOld).isEqualTo(previous);
      assertThat(firstCurrent - lastOld).as("%s: no window of the separation holds both",
          user.getKey()).isGreaterThanOrEqualTo(changing.separation());
      // the validation event is an ordinary recurrence: its item occurred shortly before
      assertThat(items.subList(n - 2 - 64, n - 2)).contains(validation);
      // the test input's last 200 events hold no old item at all, so not the answer either
      assertThat(items.subList(n - 1 - 200, n - 1)).doesNotContainAnyElementsOf(old);
    }
    assertThat(longUsers).isEqualTo(12);
  }

  @Test
  void refusesASeparationThatLeavesTheCurrentItemsNoRoom() {
    assertThatThrownBy(() -> new RecurrenceGenerator.Cohort(10, 2100, 2600, 2, 16, 300, 2000, 10,
        298)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("separation");
    assertThatThrownBy(() -> new RecurrenceGenerator.Cohort(10, 2100, 2600, 2, 16, 300, 2000, 10,
        -1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theSameSeedGivesTheSameEventsAndAnotherSeedOthers() {
    List<Interaction> a = new RecurrenceGenerator(OPTIONS).generate();
    List<Interaction> b = new RecurrenceGenerator(OPTIONS).generate();
    assertThat(a).isEqualTo(b);
    RecurrenceGenerator.Options other = new RecurrenceGenerator.Options(64, 4, 32,
        OPTIONS.shortUsers(), OPTIONS.longUsers(), 6);
    assertThat(new RecurrenceGenerator(other).generate()).isNotEqualTo(a);
  }

  @Test
  void theStandardSetIsWhatSyntheticRecurrenceLoads() throws java.io.IOException {
    Dataset data = new DataSource("synthetic:recurrence", InteractionReaders.Format.JSONL, 0)
        .load().dataset();
    RecurrenceGenerator.Options standard = RecurrenceGenerator.Options.standard(1);
    assertThat(data.users()).hasSize(standard.shortUsers().users()
        + standard.longUsers().users());
    assertThat(data.items().size()).isLessThanOrEqualTo(standard.recurringItems()
        + standard.fillerItems());
  }

  @Test
  void equalCohortsStillGiveDistinctUsers() {
    RecurrenceGenerator.Cohort same = OPTIONS.shortUsers();
    Map<String, List<String>> byUser = byUser(new RecurrenceGenerator(
        new RecurrenceGenerator.Options(64, 4, 32, same, same, 5)).generate());
    assertThat(byUser).hasSize(2 * same.users());
    assertThat(byUser.keySet().stream().filter(RecurrenceGenerator::isLongUser))
        .hasSize(same.users());
  }

  @Test
  void refusesHistoriesShorterThanTheirFinalGaps() {
    assertThatThrownBy(() -> new RecurrenceGenerator.Cohort(10, 100, 200, 2, 50, 300, 2000, 10))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("longer than the final gaps");
    assertThatThrownBy(() -> new RecurrenceGenerator.Options(3, 4, 32, OPTIONS.shortUsers(),
        OPTIONS.longUsers(), 1)).isInstanceOf(IllegalArgumentException.class);
  }

  private static Map<String, List<String>> byUser(List<Interaction> events) {
    Map<String, List<String>> byUser = new LinkedHashMap<>();
    for (Interaction e : events) {
      byUser.computeIfAbsent(e.userId(), u -> new ArrayList<>()).add(e.itemId());
    }
    return byUser;
  }
}
