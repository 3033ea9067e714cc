package dev.reranker.testing;

import java.util.SplittableRandom;

/**
 * Seeded, repeatable randomised checks: each run draws a fresh seed (printed), {@code
 * -Dreranker.seed=…} replays one, and a failing case is reported with the seed and its index so
 * that it can be replayed alone. A small stand-in for a property-testing library (jqwik's JUnit 6
 * support was not to be had here): no shrinking, but every failure is reproducible.
 */
public final class Seeds {
  private Seeds() {}

  /** One case of a property: gets its own generator, derived from the run's seed and its index. */
  @FunctionalInterface
  public interface Case {
    void check(SplittableRandom random, int index) throws Exception;
  }

  /** The run's seed: {@code -Dreranker.seed}, else a fresh one. */
  public static long seed(String name) {
    long seed = Long.getLong("reranker.seed", System.nanoTime() ^ name.hashCode());
    System.out.println(name + ": seed " + seed + " (replay with -Dreranker.seed=" + seed + ")");
    return seed;
  }

  /** Runs {@code tries} cases; the first failure is rethrown with its seed and index. */
  public static void forAll(String name, int tries, Case property) throws Exception {
    long seed = seed(name);
    SplittableRandom root = new SplittableRandom(seed);
    for (int i = 0; i < tries; i++) {
      SplittableRandom r = root.split();
      try {
        property.check(r, i);
      } catch (AssertionError | Exception e) {
        AssertionError failure = new AssertionError(name + " failed at case " + i + " of seed "
            + seed + " (replay with -Dreranker.seed=" + seed + "): " + e.getMessage(), e);
        throw failure;
      }
    }
  }

  /** A random string of UTF-16 units drawn to hit the edges: surrogates, controls, spaces. */
  public static String edgyString(SplittableRandom r, int maxLength) {
    int n = r.nextInt(maxLength + 1);
    StringBuilder b = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      b.append(switch (r.nextInt(10)) {
        case 0 -> (char) (0xD800 + r.nextInt(0x400)); // high surrogate
        case 1 -> (char) (0xDC00 + r.nextInt(0x400)); // low surrogate
        case 2 -> (char) r.nextInt(0x20); // C0 control
        case 3 -> (char) (0x7F + r.nextInt(0x21)); // DEL and C1
        case 4 -> ' ';
        case 5 -> (char) (0xA0 + r.nextInt(0xD800 - 0xA0)); // BMP beyond Latin-1
        default -> (char) ('!' + r.nextInt(94)); // printable ASCII
      });
    }
    return b.toString();
  }
}
