package dev.reranker.experiment;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Which arm each of {@value #BUCKETS} buckets serves. Users hash into buckets (a salted hash, see
 * {@link Experiment}), so assignment is deterministic and sticky.
 *
 * <p>Changing weights moves as few users as possible: an arm whose share does not grow keeps its
 * buckets up to its new count (releasing its highest-numbered ones), and only released or unused
 * buckets go to arms that grow (lowest-numbered first). So raising one arm's weight never moves a
 * user out of the share another arm keeps. Immutable; {@link #rebalance} returns a new allocation.
 */
public final class BucketAllocation {

  /** Buckets users hash into: weights resolve to 0.01%. */
  public static final int BUCKETS = 10_000;

  private final ArmChoice[] table; // bucket → arm

  private BucketAllocation(ArmChoice[] table) {
    this.table = table;
  }

  /** A first allocation: arms take contiguous ranges in declaration order. */
  public static BucketAllocation of(Map<ArmChoice, Double> weights) {
    Map<ArmChoice, Integer> counts = counts(weights);
    ArmChoice[] table = new ArmChoice[BUCKETS];
    int b = 0;
    for (ArmChoice arm : ArmChoice.values()) {
      for (int i = 0; i < counts.getOrDefault(arm, 0); i++) {
        table[b++] = arm;
      }
    }
    return new BucketAllocation(table);
  }

  /** A new allocation for new weights that keeps every arm's kept share in place. */
  public BucketAllocation rebalance(Map<ArmChoice, Double> weights) {
    Map<ArmChoice, Integer> target = counts(weights);
    ArmChoice[] next = table.clone();
    Map<ArmChoice, Integer> have = new EnumMap<>(ArmChoice.class);
    for (ArmChoice a : next) {
      have.merge(a, 1, Integer::sum);
    }
    List<Integer> free = new ArrayList<>();
    // shrinking arms release their highest buckets
    for (int b = BUCKETS - 1; b >= 0; b--) {
      ArmChoice a = next[b];
      if (have.get(a) > target.getOrDefault(a, 0)) {
        have.merge(a, -1, Integer::sum);
        next[b] = null;
        free.add(b);
      }
    }
    free.sort(Integer::compare);
    // growing arms take freed buckets, lowest first, in declaration order
    int f = 0;
    for (ArmChoice a : ArmChoice.values()) {
      int need = target.getOrDefault(a, 0) - have.getOrDefault(a, 0);
      for (int i = 0; i < need; i++) {
        next[free.get(f++)] = a;
      }
    }
    return new BucketAllocation(next);
  }

  public ArmChoice arm(int bucket) {
    return table[bucket];
  }

  /**
   * The table as text, one character per bucket (the arm's ordinal: '0' performer, '1' softmax,
   * '2' fallback): an allocation depends on the history of weight changes, so it is shared whole.
   */
  public String encode() {
    char[] out = new char[BUCKETS];
    for (int b = 0; b < BUCKETS; b++) {
      out[b] = (char) ('0' + table[b].ordinal());
    }
    return new String(out);
  }

  /** The inverse of {@link #encode}; rejects anything else with the reason. */
  public static BucketAllocation decode(String text) {
    if (text == null || text.length() != BUCKETS) {
      throw new IllegalArgumentException("a bucket table has " + BUCKETS + " entries, got "
          + (text == null ? "none" : text.length()));
    }
    ArmChoice[] arms = ArmChoice.values();
    ArmChoice[] table = new ArmChoice[BUCKETS];
    for (int b = 0; b < BUCKETS; b++) {
      int i = text.charAt(b) - '0';
      if (i < 0 || i >= arms.length) {
        throw new IllegalArgumentException("bucket " + b + " names no arm: '" + text.charAt(b)
            + "'");
      }
      table[b] = arms[i];
    }
    return new BucketAllocation(table);
  }

  /** Buckets per arm. */
  public Map<ArmChoice, Integer> counts() {
    Map<ArmChoice, Integer> out = new EnumMap<>(ArmChoice.class);
    for (ArmChoice a : table) {
      out.merge(a, 1, Integer::sum);
    }
    return out;
  }

  /** Weights → whole bucket counts summing to {@value #BUCKETS} (largest remainders). */
  /** The largest weight accepted: weights are relative, and their sum must stay finite. */
  static final double MAX_WEIGHT = 1e9;

  static Map<ArmChoice, Integer> counts(Map<ArmChoice, Double> weights) {
    double total = 0;
    for (Map.Entry<ArmChoice, Double> e : weights.entrySet()) {
      if (e.getValue() == null || !(e.getValue() >= 0) || !(e.getValue() <= MAX_WEIGHT)) {
        throw new IllegalArgumentException("weight of " + e.getKey().wireName()
            + " must be a number ≥ 0 and ≤ " + (long) MAX_WEIGHT + ", got " + e.getValue());
      }
      total += e.getValue();
    }
    if (!(total > 0)) {
      throw new IllegalArgumentException("at least one arm needs a weight > 0");
    }
    Map<ArmChoice, Integer> counts = new EnumMap<>(ArmChoice.class);
    Map<ArmChoice, Double> remainders = new EnumMap<>(ArmChoice.class);
    int assigned = 0;
    for (ArmChoice a : ArmChoice.values()) {
      double exact = weights.getOrDefault(a, 0.0) / total * BUCKETS;
      counts.put(a, (int) Math.floor(exact));
      remainders.put(a, exact - Math.floor(exact));
      assigned += (int) Math.floor(exact);
    }
    // the buckets rounding left over go to arms with weight: a zero-weight arm gets none
    List<ArmChoice> byRemainder = new ArrayList<>();
    for (ArmChoice a : ArmChoice.values()) {
      if (weights.getOrDefault(a, 0.0) > 0) {
        byRemainder.add(a);
      }
    }
    byRemainder.sort((x, y) -> Double.compare(remainders.get(y), remainders.get(x)));
    for (int i = 0; assigned < BUCKETS; i++, assigned++) {
      counts.merge(byRemainder.get(i % byRemainder.size()), 1, Integer::sum);
    }
    return counts;
  }
}
