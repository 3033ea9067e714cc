package dev.reranker.data;

import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Synthetic histories in which the next item is determined by an event <b>300 to 2,000 steps
 * earlier</b>, amid noise: the task only a model that reads whole histories can solve
 * ({@code synthetic:long-range}).
 *
 * <p>Items: K <em>keys</em> {@code k0 … k(K−1)}, K <em>targets</em> with a fixed secret pairing
 * key → target (a seeded permutation), and N <em>noise</em> items. A user's history of L events is
 * noise into which keys are planted, about one per {@code keyEvery} events, each followed by its
 * target exactly g events later, g uniform in [minGap, maxGap]; keys never repeat within a user.
 * Between a key and its target lie hundreds of events, most of them noise, some other keys and
 * targets. At any position the targets that can come next are those of the <em>pending</em> keys
 * (seen, target not yet seen): a model that keeps count of them over the whole history ranks the
 * right target among a handful; one that sees only the last 200 events knows nothing of them (every
 * key in that window is at most 199 events old, so its target is not due yet).
 *
 * <p>The last two events are planted targets whose keys lie 300–2,000 events before them, and no
 * other key is pending there, so under leave-one-out the validation item (second last) and the test
 * item (last) are both long-range targets, with one competing pending target at validation and none
 * at test. Timestamps advance by 30 s … 10 min per event, independently of the pattern.
 * Deterministic from the seed.
 */
public final class LongRangeGenerator implements InteractionGenerator {

  /**
   * Generator settings.
   *
   * @param users users
   * @param keys K (and as many targets); at least the keys one user can hold
   * @param noiseItems N
   * @param minLength the shortest history (events before the final two targets)
   * @param maxLength the longest
   * @param keyEvery the mean number of events between planted keys
   * @param minGap the fewest events from a key to its target (its target is that many steps later)
   * @param maxGap the most
   * @param seed the seed of the pairing and of every history
   */
  public record Options(int users, int keys, int noiseItems, int minLength, int maxLength,
      int keyEvery, int minGap, int maxGap, long seed) {
    public Options {
      if (users < 1 || keys < 2 || noiseItems < 1 || keyEvery < 1 || minGap < 1
          || maxGap < minGap || minLength <= maxGap || maxLength < minLength) {
        throw new IllegalArgumentException("invalid long-range options: " + this
            + " (histories must be longer than maxGap)");
      }
      int most = maxLength / keyEvery * 4 + 2;
      if (keys < most) {
        throw new IllegalArgumentException("keys (" + keys + ") must be at least " + most
            + ": keys never repeat within a user");
      }
    }

    /**
     * The {@code synthetic:long-range} set: 320 users of 2,400–3,600 events (≈ 0.96 M), 256 keys,
     * 256 noise items, a key every 100 events on average, targets 300–2,000 events after their keys.
     */
    public static Options standard(long seed) {
      return new Options(320, 256, 256, 2400, 3600, 100, 300, 2000, seed);
    }
  }

  private static final long START_MILLIS = 1_767_225_600_000L; // 2026-01-01T00:00:00Z

  private final Options options;
  private final int[] targetOfKey;

  public LongRangeGenerator(Options options) {
    this.options = options;
    targetOfKey = SyntheticGenerator.shuffledRange(options.keys(), new SplittableRandom(
        options.seed() ^ 0x1F2E3D4C5B6AL));
  }

  public Options options() {
    return options;
  }

  /** The target item paired with a key item ({@code k3 → t17}). */
  public String targetOf(String keyId) {
    return "t" + targetOfKey[Integer.parseInt(keyId.substring(1))];
  }

  /** Streams the events to a consumer. */
  @Override
  public void generate(Consumer<Interaction> sink) {
    SplittableRandom random = new SplittableRandom(options.seed());
    for (int u = 0; u < options.users(); u++) {
      String user = "u" + u;
      String[] items = history(random);
      long time = START_MILLIS + u * 7_919_000L;
      for (int p = 0; p < items.length; p++) {
        time += 30_000 + random.nextInt(570_000);
        sink.accept(new Interaction(user, items[p], time, EventType.VIEW, "lr-" + user + "-" + p));
      }
    }
  }

  /** One user's items: L planted events, then the two final targets at L and L + 1. */
  private String[] history(SplittableRandom random) {
    int length = options.minLength()
        + random.nextInt(options.maxLength() - options.minLength() + 1);
    String[] slots = new String[length + 2];
    int[] keyOrder = SyntheticGenerator.shuffledRange(options.keys(), random);
    int nextKey = 0;
    // the final pair first: their keys 300–2,000 events before positions L and L + 1
    for (int end = length; end <= length + 1; end++) {
      int key;
      int at;
      do {
        at = end - gap(random);
      } while (slots[at] != null);
      key = keyOrder[nextKey++];
      slots[at] = "k" + key;
      slots[end] = "t" + targetOfKey[key];
    }
    // the others: a key where the coin says so and the slot is free, its target g events later
    // where that slot is free and before L (otherwise the key is not planted)
    for (int p = 0; p < length; p++) {
      if (slots[p] != null || random.nextInt(options.keyEvery()) != 0) {
        continue;
      }
      int at = p + gap(random);
      if (at >= length || slots[at] != null || nextKey == keyOrder.length) {
        continue;
      }
      int key = keyOrder[nextKey++];
      slots[p] = "k" + key;
      slots[at] = "t" + targetOfKey[key];
    }
    for (int p = 0; p < slots.length; p++) {
      if (slots[p] == null) {
        slots[p] = "n" + random.nextInt(options.noiseItems());
      }
    }
    return slots;
  }

  private int gap(SplittableRandom random) {
    return options.minGap() + random.nextInt(options.maxGap() - options.minGap() + 1);
  }
}
