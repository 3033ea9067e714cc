package dev.reranker.data;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Synthetic histories of items users <b>re-consume with long periods</b>, amid a filler that is
 * cheap to predict: the planted long-range task in the form a model here has learned to use
 * ({@code synthetic:recurrence}; docs/long-range.md, third round).
 *
 * <p>Items: R <em>recurring</em> items {@code r0 … r(R−1)} and F <em>filler</em> items
 * {@code f0 … f(F−1)}. Each user owns K distinct recurring items. Every occurrence of one of them
 * but its first follows its previous occurrence by a gap drawn log-uniformly from
 * [minGap, maxGap]; the user's events in between are the filler, a walk that steps +1 (mod F) at
 * each filler event. The last two events (validation and test under leave-one-out) are two of the
 * user's recurring items whose previous occurrence lies [minFinalGap, maxFinalGap] events before
 * them, with none in between.
 *
 * <p>Why this shape (the pending-key task of {@link LongRangeGenerator} was never learned here):
 * under full ranking every other recurring item of the user has been seen and is excluded, so a
 * model only has to carry the user's <em>set</em> — K ≤ 8 items, few enough to superpose in one
 * state — and the filler's near-zero entropy leaves the recurring items' gradient undrowned.
 *
 * <p>Two kinds of users, from one catalogue: <em>short</em> users (dense recurrences over a few
 * dozen events) teach the association at a length where attention's weight is not spread over
 * thousands of events; <em>long</em> users (thousands of events, final gaps 300–2,000) are where it
 * is tested: a model that reads only the last 200 events has never seen the answer. Timestamps
 * advance by 30 s … 10 min per event. Deterministic from the seed.
 */
public final class RecurrenceGenerator implements InteractionGenerator {

  /** One kind of user: how many, how long, and how its items recur. */
  public record Cohort(int users, int minLength, int maxLength, int minGap, int maxGap,
      int minFinalGap, int maxFinalGap, int firstWithin) {
    public Cohort {
      if (users < 0 || minLength < 2 || maxLength < minLength || minGap < 1 || maxGap < minGap
          || minFinalGap < 1 || maxFinalGap < minFinalGap || maxFinalGap >= minLength
          || firstWithin < 1 || firstWithin > minLength) {
        throw new IllegalArgumentException("invalid recurrence cohort: " + this
            + " (histories must be longer than the final gaps)");
      }
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

  /** One user's items: L events, then the two final recurrences at L and L + 1. */
  private String[] history(Cohort cohort, SplittableRandom random) {
    int length = cohort.minLength() + random.nextInt(cohort.maxLength() - cohort.minLength() + 1);
    String[] slots = new String[length + 2];
    LinkedHashSet<Integer> owned = new LinkedHashSet<>();
    while (owned.size() < options.perUser()) {
      owned.add(random.nextInt(options.recurringItems()));
    }
    int[] mine = owned.stream().mapToInt(Integer::intValue).toArray();
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
    // every owned item recurs from a first occurrence near the start, each gap log-uniform; a
    // taken slot moves the occurrence to the next free one
    for (int i = 0; i < mine.length; i++) {
      int p = random.nextInt(cohort.firstWithin());
      while (true) {
        while (p <= lastBefore[i] && slots[p] != null) {
          p++;
        }
        if (p > lastBefore[i]) {
          break;
        }
        slots[p] = "r" + mine[i];
        p += gap(cohort, random);
      }
    }
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
