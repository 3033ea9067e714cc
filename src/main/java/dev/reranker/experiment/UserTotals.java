package dev.reranker.experiment;

import dev.reranker.experiment.stats.Preference;

/**
 * One user's totals in one (experiment, arm): the per-user sums the user-level statistics are
 * built from (users are randomised, so the unit of analysis is the user). The live join keeps one
 * per user in a store and moves the arm's statistics by each resolution's delta; the replay sums
 * them per user and adds each user once. Immutable.
 *
 * @param hits exposures whose taken item was in the top k
 * @param ndcg sum of NDCG@k
 * @param reciprocalRank sum of 1 / rank
 * @param resolved exposures resolved (the denominators)
 * @param creditsPerformer interleaved arm: interactions credited to the performer's items
 * @param creditsSoftmax interleaved arm: interactions credited to the softmax arm's items
 */
public record UserTotals(double hits, double ndcg, double reciprocalRank, double resolved,
    long creditsPerformer, long creditsSoftmax) {

  /** A user with nothing resolved yet. */
  public static final UserTotals NONE = new UserTotals(0, 0, 0, 0, 0, 0);

  /** These totals with one more resolved exposure. */
  public UserTotals plus(Resolution r) {
    return new UserTotals(hits + (r.hit() ? 1 : 0), ndcg + r.ndcg(),
        reciprocalRank + r.reciprocalRank(), resolved + 1,
        creditsPerformer + (r.team() == ArmChoice.PERFORMER ? 1 : 0),
        creditsSoftmax + (r.team() == ArmChoice.SOFTMAX ? 1 : 0));
  }

  /**
   * The interleaved arm's preference of this user: the sign of performer credits minus softmax
   * credits (0: a tie, also a user whose lists were all degraded and so had no teams); null for a
   * user with nothing resolved, who is not counted yet.
   */
  public Integer preference() {
    return resolved == 0 ? null : Preference.sign(creditsPerformer, creditsSoftmax);
  }
}
