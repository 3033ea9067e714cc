package dev.reranker.experiment;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * An A/B experiment: arms with traffic weights, a salt, and whether it runs in shadow mode (every
 * request also computes the other model arm, to record how far the two agree and what each costs,
 * while serving only the assigned one).
 *
 * <p>Assignment: bucket = SplitMix64(FNV-1a(salt ‖ ':' ‖ userId)) mod 10,000, then the bucket's arm
 * ({@link BucketAllocation}). Deterministic across instances and restarts; a user keeps their arm
 * until a weight change releases their bucket.
 *
 * @param k the cut-off of the online HR@k and NDCG@k
 */
public record Experiment(String id, String salt, Map<ArmChoice, Double> weights,
    BucketAllocation allocation, boolean shadow, int k) {

  /** What an experiment id may be. */
  public static final String ID_RULE = "experiment id must be 1–64 letters, digits, '.', '_' or '-'";

  /** Whether {@code id} follows {@link #ID_RULE}. */
  public static boolean validId(String id) {
    return id != null && id.matches("[A-Za-z0-9._-]{1,64}");
  }

  /** The largest cut-off k of the online metrics. */
  public static final int MAX_K = 1000;

  /** The experiment a request that names none joins, unless configured otherwise. */
  public static final String DEFAULT_ID = "default";

  /**
   * The experiment an instance runs when its configuration defines none under the default id:
   * the two model arms half and half, no shadow, k = 10.
   */
  public static Experiment standard(String id) {
    return create(id, null, Map.of(ArmChoice.PERFORMER, 50.0, ArmChoice.SOFTMAX, 50.0), false,
        10);
  }

  public Experiment {
    if (!validId(id)) {
      throw new IllegalArgumentException(ID_RULE + ", got '" + id + "'");
    }
    if (k < 1 || k > MAX_K) {
      throw new IllegalArgumentException("k must be in [1, " + MAX_K + "], got " + k);
    }
    weights = Map.copyOf(weights);
  }

  /** A new experiment. */
  public static Experiment create(String id, String salt, Map<ArmChoice, Double> weights,
      boolean shadow, int k) {
    return new Experiment(id, salt == null ? id : salt, weights, BucketAllocation.of(weights),
        shadow, k);
  }

  /** The same experiment with new weights, moving as few users as possible. */
  public Experiment withWeights(Map<ArmChoice, Double> newWeights, boolean newShadow) {
    return new Experiment(id, salt, newWeights, allocation.rebalance(newWeights), newShadow, k);
  }

  /** The same experiment with another cut-off k. */
  public Experiment withK(int newK) {
    return new Experiment(id, salt, weights, allocation, shadow, newK);
  }

  public int bucket(String userId) {
    long h = 0xcbf29ce484222325L;
    for (byte b : (salt + ":" + userId).getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    // SplitMix64 finaliser: FNV's low bits are weak
    h ^= h >>> 30;
    h *= 0xbf58476d1ce4e5b9L;
    h ^= h >>> 27;
    h *= 0x94d049bb133111ebL;
    h ^= h >>> 31;
    return (int) Math.floorMod(h, (long) BucketAllocation.BUCKETS);
  }

  public ArmChoice assign(String userId) {
    return allocation.arm(bucket(userId));
  }
}
