package dev.reranker.data;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Synthetic histories of items users <b>re-consume with long periods</b>, amid a filler that is
 * cheap to predict: the planted long-range task ({@code synthetic:long-range}, and its earlier form
 * {@code synthetic:recurrence}; docs/long-range.md, rounds three and four).
 *
 * <p>Items: R <em>recurring</em> items {@code r0 … r(R−1)} and F <em>filler</em> items
 * {@code f0 … f(F−1)}. Each user owns K distinct recurring items. Every occurrence of one of them
 * but its first follows its previous occurrence by a gap drawn log-uniformly from
 * [minGap, maxGap]; the user's events in between are the filler, a walk that steps +1 (mod F) at
 * each filler event. The last two events are validation and test under leave-one-out; how they and
 * the owned items' spans are placed is the cohort's {@link Cohort#separation()}.
 *
 * <p>Why this shape (the pending-key task of the first two rounds was never learned here): under
 * full ranking every other item the user has seen is excluded, so a model only has to carry the
 * user's <em>set</em> — K ≤ 8 items, few enough to superpose in one state — and the filler's
 * near-zero entropy leaves the recurring items' gradient undrowned.
 *
 * <p>Why the interests change (separation &gt; 0): with one interest, the items of a long user's last
 * 200 events co-occur with the answer in the user's own earlier training windows, so a model
 * truncated to 200 learns the answer from them (NDCG@10 0.32 on the long users, run 22); with
 * two interests more than a window apart, no training window of softmax links them.
 *
 * <p>Two kinds of users, from one catalogue: <em>short</em> users (dense recurrences over a few
 * dozen events) teach the association at a length where attention's weight is not spread over
 * thousands of events; <em>long</em> users (thousands of events, final gaps 300–2,000) are where it
 * is tested: a model that reads only the last 200 events has never seen the answer. Timestamps
 * advance by 30 s … 10 min per event. Deterministic from the seed.
 */
public final class RecurrenceGenerator implements InteractionGenerator {

  /**
   * One kind of user: how many, how long, and how its items recur.
   *
   * @param separation 0: every owned item recurs to the end, and the last two events are two of
   *     them after their final gaps. Greater than 0: the user's interests <em>change</em> — the
   *     first half of the owned items (the old ones) recur only until the test item's previous
   *     occurrence, the other half (the current ones) only from {@code separation} events after it;
   *     the validation event is a current item's ordinary recurrence and the test event an old
   *     item's return after its final gap. No window of {@code separation} events or fewer holds an
   *     old and a current item together, so nothing in such a window tells which old items the
   *     user had: only the history beyond it does ({@code synthetic:long-range}).
   */
  public record Cohort(int users, int minLength, int maxLength, int minGap, int maxGap,
      int minFinalGap, int maxFinalGap, int firstWithin, int separation) {
    public Cohort {
      if (users < 0 || minLength < 2 || maxLength < minLength || minGap < 1 || maxGap < minGap
          || minFinalGap < 1 || maxFinalGap < minFinalGap || maxFinalGap >= minLength
          || firstWithin < 1 || firstWithin > minLength) {
        throw new IllegalArgumentException("invalid recurrence cohort: " + this
            + " (histories must be longer than the final gaps)");
      }
      // the current items need room for a recurrence between their start and the validation
      if (separation < 0 || (separation > 0 && minFinalGap <= separation + minGap + 2)) {
        throw new IllegalArgumentException("invalid recurrence cohort: " + this
            + " (a separation must be ≥ 0 and leave the current items more than a gap before"
            + " the end)");
      }
    }

    /** A cohort of one phase (separation 0). */
    public Cohort(int users, int minLength, int maxLength, int minGap, int maxGap,
        int minFinalGap, int maxFinalGap, int firstWithin) {
      this(users, minLength, maxLength, minGap, maxGap, minFinalGap, maxFinalGap, firstWithin, 0);
    }
  }

  /**
   * Generator settings.
   *
   * @param recurringItems R
   * @param perUser K, the recurring items a user owns (at least 2: the final two events)
   * @param fillerItems F
   * @param shortUsers the teaching cohort
   * @param longUsers the tested cohort
   * @param seed the seed of every history
   */
  public record Options(int recurringItems, int perUser, int fillerItems, Cohort shortUsers,
      Cohort longUsers, long seed) {
    public Options {
      if (perUser < 2 || recurringItems < perUser || fillerItems < 1) {
        throw new IllegalArgumentException("invalid recurrence options: " + this);
      }
    }

    /**
     * The {@code synthetic:recurrence} set (run 18 of docs/long-range.md): 128 recurring items, 4
     * a user, 256 filler items; 2,000 short users of 60–64 events (gaps 2–16, final gaps 5–40, first
     * occurrences in the first 10 events) and 100 long users of 2,100–2,600 events (gaps 2–2,000,
     * final gaps 300–2,000, first occurrences in the first 600); ≈ 0.36 M events.
     */
    public static Options standard(long seed) {
      return new Options(128, 4, 256, new Cohort(2000, 60, 64, 2, 16, 5, 40, 10),
          new Cohort(100, 2100, 2600, 2, 2000, 300, 2000, 600), seed);
    }

    /**
     * The {@code synthetic:long-range} set (docs/long-range.md, fourth round): 64 recurring items,
     * 4 a user, 256 filler items; 2,000 short users as in {@link #standard} and 100 long users of
     * 2,100–2,600 events whose interests change (separation 201): dense recurrences (gaps 2–16) of
     * two old items, then of two current ones; the validation event a current item's recurrence,
     * the test event an old item's return 300–2,000 events after its previous occurrence. The last
     * 200 events of a long user's test input hold no old item; ≈ 0.36 M events.
     */
    public static Options longRange(long seed) {
      return new Options(64, 4, 256, new Cohort(2000, 60, 64, 2, 16, 5, 40, 10),
          new Cohort(100, 2100, 2600, 2, 16, 300, 2000, 10, 201), seed);
    }
  }

  private static final long START_MILLIS = 1_767_225_600_000L; // 2026-01-01T00:00:00Z

  private final Options options;

  public RecurrenceGenerator(Options options) {
    this.options = options;
  }

  public Options options() {
    return options;
  }

  /** Whether a user id is a long user's (short users are {@code s0 …}, long ones {@code l0 …}). */
  public static boolean isLongUser(String userId) {
    return userId.startsWith("l");
  }

  /** Streams the events to a consumer. */
  @Override
  public void generate(Consumer<Interaction> sink) {
    SplittableRandom random = new SplittableRandom(options.seed());
    int u = 0;
    List<Cohort> cohorts = List.of(options.shortUsers(), options.longUsers());
    for (int k = 0; k < cohorts.size(); k++) {
      Cohort cohort = cohorts.get(k);
      String prefix = k == 0 ? "s" : "l"; // by position: the two cohorts may be equal records
      for (int i = 0; i < cohort.users(); i++, u++) {
        String user = prefix + i;
        String[] items = history(cohort, random);
        long time = START_MILLIS + u * 7_919_000L;
        for (int p = 0; p < items.length; p++) {
          time += 30_000 + random.nextInt(570_000);
          sink.accept(new Interaction(user, items[p], time, EventType.VIEW,
              "rc-" + user + "-" + p));
        }
      }
    }
  }

  /** One user's items: L events, then the validation and test events at L and L + 1. */
  private String[] history(Cohort cohort, SplittableRandom random) {
    int length = cohort.minLength() + random.nextInt(cohort.maxLength() - cohort.minLength() + 1);
    String[] slots = new String[length + 2];
    int[] mine = owned(random);
    return cohort.separation() > 0
        ? changingInterests(cohort, random, length, slots, mine)
        : oneInterest(cohort, random, length, slots, mine);
  }

  /** Separation 0: every owned item recurs to the end; the final two return after final gaps. */
  private String[] oneInterest(Cohort cohort, SplittableRandom random, int length, String[] slots,
      int[] mine) {
    // the final two first: item f at L + f, its previous occurrence g events before, none between
    int[] lastBefore = new int[mine.length];
    java.util.Arrays.fill(lastBefore, length - 1);
    for (int f = 0; f < 2; f++) {
      int end = length + f;
      int at;
      do {
        at = end - cohort.minFinalGap()
            - random.nextInt(cohort.maxFinalGap() - cohort.minFinalGap() + 1);
      } while (slots[at] != null);
      slots[at] = "r" + mine[f];
      slots[end] = "r" + mine[f];
      lastBefore[f] = at - cohort.minGap(); // earlier recurrences end a gap before that one
    }
    // every owned item recurs from a first occurrence near the start
    for (int i = 0; i < mine.length; i++) {
      recur(cohort, random, slots, "r" + mine[i], random.nextInt(cohort.firstWithin()),
          lastBefore[i]);
    }
    return fill(slots, random);
  }

  /**
   * Separation > 0: the old items (the first half) recur from the start until the test item's
   * previous occurrence, a final gap before the test event; the current items (the second half)
   * from {@code separation} events after that until the validation event, which is one of them.
   */
  private String[] changingInterests(Cohort cohort, SplittableRandom random, int length,
      String[] slots, int[] mine) {
    int half = mine.length / 2;
    int test = length + 1;
    int finalGap = cohort.minFinalGap()
        + random.nextInt(cohort.maxFinalGap() - cohort.minFinalGap() + 1);
    int oldEnd = test - finalGap;
    int currentStart = oldEnd + cohort.separation();
    slots[oldEnd] = "r" + mine[0];
    slots[test] = "r" + mine[0];
    slots[length] = "r" + mine[half];
    for (int i = 0; i < half; i++) {
      recur(cohort, random, slots, "r" + mine[i], random.nextInt(cohort.firstWithin()),
          oldEnd - cohort.minGap());
    }
    for (int i = half; i < mine.length; i++) {
      recur(cohort, random, slots, "r" + mine[i], currentStart, length - 1 - cohort.minGap());
    }
    return fill(slots, random);
  }

  /** K distinct recurring items. */
  private int[] owned(SplittableRandom random) {
    LinkedHashSet<Integer> owned = new LinkedHashSet<>();
    while (owned.size() < options.perUser()) {
      owned.add(random.nextInt(options.recurringItems()));
    }
    return owned.stream().mapToInt(Integer::intValue).toArray();
  }

  /**
   * Occurrences of {@code item} from {@code from} to {@code last}, each gap log-uniform; a taken
   * slot moves the occurrence to the next free one.
   */
  private static void recur(Cohort cohort, SplittableRandom random, String[] slots, String item,
      int from, int last) {
    int p = from;
    while (true) {
      while (p <= last && slots[p] != null) {
        p++;
      }
      if (p > last) {
        return;
      }
      slots[p] = item;
      p += gap(cohort, random);
    }
  }

  /** The filler: a walk that steps +1 (mod F) through every slot left free. */
  private String[] fill(String[] slots, SplittableRandom random) {
    int walk = random.nextInt(options.fillerItems());
    for (int p = 0; p < slots.length; p++) {
      if (slots[p] == null) {
        walk = (walk + 1) % options.fillerItems();
        slots[p] = "f" + walk;
      }
    }
    return slots;
  }

  private static int gap(Cohort cohort, SplittableRandom random) {
    double log = Math.log(cohort.minGap())
        + random.nextDouble() * (Math.log(cohort.maxGap()) - Math.log(cohort.minGap()));
    return Math.max(cohort.minGap(), (int) Math.round(Math.exp(log)));
  }
}
