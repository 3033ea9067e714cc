package dev.reranker.experiment;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reranker.experiment.stats.Comparison;
import dev.reranker.experiment.stats.Preference;
import dev.reranker.experiment.stats.UserMoments;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * How many users interleaving needs, against an A/B test of the same two rankers, to find the
 * better one — by simulation (about 20 s: a failsafe *SlowTest). Printed figures are the ones the
 * closing notes quote.
 */
class InterleavingPowerSlowTest {

  // the simulated world: per request 30 candidates with true utilities u ~ N(0, 1); ranker A
  // scores u + N(0, 0.8²), ranker B u + N(0, 1.2²) (A is the better); a user engages with a
  // request with their own probability (Beta(0.5, 1.5): mean 0.25, most users rarely), then
  // interacts with one candidate drawn by softmax(2u); k = 10 served
  static final int CANDIDATES = 30;
  static final int K = 10;
  static final int REQUESTS_PER_USER = 4;

  record Request(List<String> a, List<String> b, String chosen) {}

  static Request request(SplittableRandom r, double engagement) {
    double[] u = new double[CANDIDATES];
    Integer[] byA = new Integer[CANDIDATES];
    Integer[] byB = new Integer[CANDIDATES];
    double[] sa = new double[CANDIDATES];
    double[] sb = new double[CANDIDATES];
    double total = 0;
    for (int i = 0; i < CANDIDATES; i++) {
      u[i] = normal(r);
      sa[i] = u[i] + 0.8 * normal(r);
      sb[i] = u[i] + 1.2 * normal(r);
      byA[i] = i;
      byB[i] = i;
      total += Math.exp(2 * u[i]);
    }
    Arrays.sort(byA, Comparator.comparingDouble(i -> -sa[i]));
    Arrays.sort(byB, Comparator.comparingDouble(i -> -sb[i]));
    String chosen = null;
    if (r.nextDouble() < engagement) {
      double x = r.nextDouble() * total;
      for (int i = 0; i < CANDIDATES && chosen == null; i++) {
        x -= Math.exp(2 * u[i]);
        if (x <= 0 || i == CANDIDATES - 1) {
          chosen = "c" + i;
        }
      }
    }
    return new Request(Arrays.stream(byA).map(i -> "c" + i).toList(),
        Arrays.stream(byB).map(i -> "c" + i).toList(), chosen);
  }

  static double normal(SplittableRandom r) {
    return Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
  }

  static double engagement(SplittableRandom r) {
    // Beta(0.5, 1.5) as X/(X+Y) with X ~ Γ(0.5) = χ²₁/2, Y ~ Γ(1.5) = χ²₃/2
    double x = sq(normal(r)) / 2;
    double y = (sq(normal(r)) + sq(normal(r)) + sq(normal(r))) / 2;
    return x / (x + y);
  }

  static double sq(double v) {
    return v * v;
  }

  /** An A/B test of n users: does it find A better (two-sided p &lt; 0.05, A ahead)? */
  static boolean abDetects(SplittableRandom r, int users) {
    UserMoments a = new UserMoments();
    UserMoments b = new UserMoments();
    for (int u = 0; u < users; u++) {
      boolean inA = r.nextBoolean();
      double e = engagement(r);
      int hits = 0;
      for (int q = 0; q < REQUESTS_PER_USER; q++) {
        Request req = request(r, e);
        List<String> served = (inA ? req.a() : req.b()).subList(0, K);
        hits += req.chosen() != null && served.contains(req.chosen()) ? 1 : 0;
      }
      (inA ? a : b).addUser(hits, REQUESTS_PER_USER);
    }
    Comparison.FixedHorizon t = Comparison.fixedHorizon(a.ratio(), a.ratioVariance(), b.ratio(),
        b.ratioVariance());
    return t.p() < 0.05 && t.difference() > 0;
  }

  /** Interleaving with n users: does the sign test find A preferred? */
  static boolean interleavingDetects(SplittableRandom r, int users) {
    Preference pref = new Preference(0, 0, 0);
    for (int u = 0; u < users; u++) {
      double e = engagement(r);
      long creditA = 0;
      long creditB = 0;
      for (int q = 0; q < REQUESTS_PER_USER; q++) {
        Request req = request(r, e);
        TeamDraftInterleaving.Interleaved il = TeamDraftInterleaving.interleave(req.a(), req.b(),
            K, r);
        TeamDraftInterleaving.Team team = req.chosen() == null ? null : il.credit(req.chosen());
        creditA += team == TeamDraftInterleaving.Team.A ? 1 : 0;
        creditB += team == TeamDraftInterleaving.Team.B ? 1 : 0;
      }
      pref = pref.plus(Preference.sign(creditA, creditB));
    }
    return pref.p() < 0.05 && pref.delta() > 0;
  }

  /** The fewest users (doubling from 25) at which a method detects A in ≥ 80% of 40 trials. */
  static int usersNeeded(SplittableRandom r, boolean interleaving) {
    for (int n = 25; n <= 51_200; n *= 2) {
      int found = 0;
      for (int t = 0; t < 40; t++) {
        found += (interleaving ? interleavingDetects(r, n) : abDetects(r, n)) ? 1 : 0;
      }
      if (found >= 32) {
        return n;
      }
    }
    return Integer.MAX_VALUE;
  }

  @Test
  void interleavingFindsTheBetterRankerWithFarFewerUsersThanAnAbTest() {
    SplittableRandom r = new SplittableRandom(2026);
    int interleaving = usersNeeded(r, true);
    int ab = usersNeeded(r, false);
    System.out.printf("users to detect the better ranker in >= 80%% of trials (doubling "
        + "from 25): interleaving %,d, A/B (user-level) %,d: %.0fx%n", interleaving, ab,
        ab / (double) interleaving);
    assertThat(interleaving).isLessThan(ab);
    assertThat(ab / (double) interleaving).isGreaterThanOrEqualTo(4);
    // and an A/A interleaving (both arms the same ranker) finds nothing beyond its level
    int falsePositives = 0;
    for (int t = 0; t < 400; t++) {
      Preference pref = new Preference(0, 0, 0);
      for (int u = 0; u < 200; u++) {
        long ca = 0;
        long cb = 0;
        for (int q = 0; q < REQUESTS_PER_USER; q++) {
          Request req = request(r, 0.5);
          TeamDraftInterleaving.Interleaved il = TeamDraftInterleaving.interleave(req.a(),
              req.a(), K, r);
          TeamDraftInterleaving.Team team = req.chosen() == null ? null
              : il.credit(req.chosen());
          ca += team == TeamDraftInterleaving.Team.A ? 1 : 0;
          cb += team == TeamDraftInterleaving.Team.B ? 1 : 0;
        }
        pref = pref.plus(Preference.sign(ca, cb));
      }
      falsePositives += pref.p() < 0.05 ? 1 : 0;
    }
    System.out.printf("A/A interleaving x 400, 200 users: p < 0.05 in %d%n", falsePositives);
    assertThat(falsePositives / 400.0).isLessThanOrEqualTo(0.075);
    assertThat(new HashSet<>(List.of(interleaving, ab))).hasSize(2);
  }
}
