package dev.reranker.experiment;

/**
 * How one exposure resolved: the rule the live join ({@link OutcomeJoin}) and the replay ({@link
 * ReplayJoin}) share, so the two cannot drift apart.
 *
 * <p>An exposure resolves on the user's first applied interaction at or after it: its rank is the
 * interacted item's position in the served list (0: not served), unless the interaction came
 * after the horizon, and an exposure still unresolved when the horizon has passed is a miss (rank
 * 0): a user who did nothing is a failure of the ranking too, and leaving them out would favour an
 * arm that drives users away. On the interleaved arm the credit goes to the team whose item the
 * user took.
 *
 * @param itemId the interacted item; null for a miss at the horizon
 * @param at when it resolved: the interaction's time, or the sweep's wall clock for a miss
 * @param rank 1-based position of the item in the served list; 0 when not served or a miss
 * @param k the exposure's cut-off
 * @param team the interleaved arm's credit: the team whose item was taken; null otherwise
 * @param expired resolved as a miss because the horizon passed first
 */
public record Resolution(String itemId, long at, int rank, int k, ArmChoice team,
    boolean expired) {

  /** Whether an exposure served at {@code servedAt} is past the horizon at {@code at}. */
  public static boolean pastHorizon(long servedAt, long at, long horizonMs) {
    return servedAt < at - horizonMs;
  }

  /** The exposure met the user's next interaction, with {@code itemId} at {@code at}. */
  public static Resolution byInteraction(Exposure e, String itemId, long at, long horizonMs) {
    if (pastHorizon(e.timestamp(), at, horizonMs)) {
      return miss(e, at);
    }
    int rank = e.served().indexOf(itemId) + 1;
    ArmChoice team = e.teams() != null && rank > 0 && rank <= e.teams().size()
        ? e.teams().get(rank - 1) : null;
    return new Resolution(itemId, at, rank, e.k(), team, false);
  }

  /** The horizon passed with no interaction: a miss. */
  public static Resolution miss(Exposure e, long at) {
    return new Resolution(null, at, 0, e.k(), null, true);
  }

  /** The taken item was in the top k. */
  public boolean hit() {
    return rank > 0 && rank <= k;
  }

  /** NDCG@k with one relevant item: 1 / log2(rank + 1) within k, else 0. */
  public double ndcg() {
    return hit() ? 1 / (Math.log(rank + 1) / Math.log(2)) : 0;
  }

  /** 1 / rank over the whole served list (0 when not served). */
  public double reciprocalRank() {
    return rank > 0 ? 1.0 / rank : 0;
  }
}
