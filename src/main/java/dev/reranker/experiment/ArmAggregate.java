package dev.reranker.experiment;

import dev.reranker.experiment.stats.UserMoments;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import org.HdrHistogram.Histogram;

/**
 * Everything the report needs of one (experiment, arm), in constant size and mergeable by
 * addition: user-level sufficient statistics of HR@k, NDCG@k and reciprocal rank (each a
 * {@link UserMoments} whose denominator is the user's resolved exposures), the exposure and
 * degraded counts, the state bytes, and the latency distribution as an HdrHistogram (µs, 2
 * significant digits — 1% — up to a minute). No record of an exposure is kept here.
 */
public final class ArmAggregate {

  /** Latencies above a minute are recorded as a minute (no request is allowed that long). */
  static final long MAX_LATENCY_US = 60_000_000L;
  /**
   * 7: format 6 and, after the histogram, the latencies not yet in it ({@link #PENDING} at most).
   * Format 6 (the histogram alone) is still read.
   */
  private static final int FORMAT = 7;
  private static final int FORMAT_HISTOGRAM_ONLY = 6;
  /**
   * Latencies held beside the histogram before they are recorded into it. Why: the join writes the
   * aggregate to its store on every exposure (the store must hold it by the next exactly-once
   * commit), and encoding the histogram walks its counts up to the largest latency (≈ 1,400 of
   * them, ≈ 1.3 KB): ≈ 4 µs an exposure, a fifth of the stream thread's JFR samples under rerank
   * load (docs/profiles/rerank-bound-2026-12-08.md). With the latest latencies held apart the
   * histogram's encoding is reused until they are folded in, once every {@value} exposures.
   */
  static final int PENDING = 64;
  /**
   * Scratch for encoding the histogram, one per thread: its full capacity (≈ 23 KB for 2 digits
   * up to a minute) is needed to encode, though the encoding itself is ≈ 1.3 KB, and an aggregate
   * is encoded on every outcome the join resolves.
   */
  private static final ThreadLocal<ByteBuffer> SCRATCH = new ThreadLocal<>();

  final UserMoments hits;
  final UserMoments ndcg;
  final UserMoments reciprocalRank;
  long exposures;
  long degraded;
  long resolvedAsMiss;
  long coldStarts;
  double stateBytes;
  /** The first and last exposure's served time (epoch ms); MAX/MIN_VALUE without exposures. */
  long firstServed = Long.MAX_VALUE;
  long lastServed = Long.MIN_VALUE;
  /**
   * The interleaved arm only: interactions credited to each model arm's items, and users by the
   * arm their credit favours (ties: equal credit, or none yet).
   */
  double cpuMicros;
  /** Requests of the arm that failed (no list served; not in {@link #exposures}). */
  long errors;
  long creditsPerformer;
  long creditsSoftmax;
  long preferPerformer;
  long preferSoftmax;
  long preferenceTies;
  /** The latencies recorded so far, but for the {@link #pendingCount} in {@link #pending}. */
  private final Histogram latencyUs;
  /** Latencies (µs, already clamped) not yet in {@link #latencyUs}. */
  private final int[] pending = new int[PENDING];
  private int pendingCount;
  /** {@link #latencyUs} encoded, while it has not changed; null otherwise. */
  private byte[] encodedHistogram;

  public ArmAggregate() {
    this(new UserMoments(), new UserMoments(), new UserMoments(), new Histogram(MAX_LATENCY_US,
        2));
  }

  private ArmAggregate(UserMoments hits, UserMoments ndcg, UserMoments reciprocalRank,
      Histogram latencyUs) {
    this.hits = hits;
    this.ndcg = ndcg;
    this.reciprocalRank = reciprocalRank;
    this.latencyUs = latencyUs;
  }

  public UserMoments hits() {
    return hits;
  }

  public UserMoments ndcg() {
    return ndcg;
  }

  public UserMoments reciprocalRank() {
    return reciprocalRank;
  }

  /** Exposures served (resolved or not). */
  public long exposures() {
    return exposures;
  }

  public long degraded() {
    return degraded;
  }

  /** Exposures that reached the horizon without an interaction (counted as misses). */
  public long resolvedAsMiss() {
    return resolvedAsMiss;
  }

  /** Exposures served to users without history. */
  public long coldStarts() {
    return coldStarts;
  }

  /** The first exposure's served time, epoch ms; {@code Long.MAX_VALUE} without exposures. */
  public long firstServed() {
    return firstServed;
  }

  /** The last exposure's served time, epoch ms; {@code Long.MIN_VALUE} without exposures. */
  public long lastServed() {
    return lastServed;
  }

  /** The interleaved arm: users by the model arm their credit favours (performer = A). */
  public dev.reranker.experiment.stats.Preference preference() {
    return new dev.reranker.experiment.stats.Preference(preferPerformer, preferSoftmax,
        preferenceTies);
  }

  /** The interleaved arm: interactions credited to the performer's and the softmax's items. */
  public long[] credits() {
    return new long[] {creditsPerformer, creditsSoftmax};
  }

  /**
   * The live join's update: one exposure of a user whose totals were {@code before} resolved as
   * {@code r} (the statistics move by its delta; on the interleaved arm the user's credits and
   * preference too).
   */
  void resolved(ArmChoice arm, UserTotals before, Resolution r) {
    double h = r.hit() ? 1 : 0;
    hits.add(before.hits(), before.resolved(), h, 1);
    ndcg.add(before.ndcg(), before.resolved(), r.ndcg(), 1);
    reciprocalRank.add(before.reciprocalRank(), before.resolved(), r.reciprocalRank(), 1);
    resolvedAsMiss += r.expired() ? 1 : 0;
    if (arm == ArmChoice.INTERLEAVED) {
      UserTotals after = before.plus(r);
      creditsPerformer += after.creditsPerformer() - before.creditsPerformer();
      creditsSoftmax += after.creditsSoftmax() - before.creditsSoftmax();
      preferenceMoved(before.preference(), after.preference());
    }
  }

  /**
   * The replay's update: a whole user's totals at once, {@code misses} of their exposures
   * resolved as misses at the horizon.
   */
  void addUser(ArmChoice arm, UserTotals t, long misses) {
    hits.addUser(t.hits(), t.resolved());
    ndcg.addUser(t.ndcg(), t.resolved());
    reciprocalRank.addUser(t.reciprocalRank(), t.resolved());
    resolvedAsMiss += misses;
    if (arm == ArmChoice.INTERLEAVED && t.preference() != null) {
      creditsPerformer += t.creditsPerformer();
      creditsSoftmax += t.creditsSoftmax();
      preferenceMoved(null, t.preference());
    }
  }

  /** One user's preference changing from {@code before} to {@code after} (signs; null: new). */
  void preferenceMoved(Integer before, int after) {
    if (before != null) {
      if (before > 0) {
        preferPerformer--;
      } else if (before < 0) {
        preferSoftmax--;
      } else {
        preferenceTies--;
      }
    }
    if (after > 0) {
      preferPerformer++;
    } else if (after < 0) {
      preferSoftmax++;
    } else {
      preferenceTies++;
    }
  }

  /** Requests of the arm that failed after assignment (answered 500, nothing served). */
  public long errors() {
    return errors;
  }

  /** Mean CPU µs per request; 0 without exposures. */
  public double meanCpuMicros() {
    return exposures == 0 ? 0 : cpuMicros / exposures;
  }

  /** Mean state bytes per exposure; 0 without exposures. */
  public double meanStateBytes() {
    return exposures == 0 ? 0 : stateBytes / exposures;
  }

  /** Latency percentile in milliseconds. */
  public double latencyMs(double percentile) {
    Histogram h = latency();
    return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1e3;
  }

  /**
   * Every latency recorded, in µs: the histogram itself, or a copy with the pending latencies in
   * it (reading never changes the aggregate, so readers on other threads see the same bytes).
   */
  Histogram latency() {
    if (pendingCount == 0) {
      return latencyUs;
    }
    Histogram h = latencyUs.copy();
    for (int i = 0; i < pendingCount; i++) {
      h.recordValue(pending[i]);
    }
    return h;
  }

  private void foldPending() {
    if (pendingCount == 0) {
      return;
    }
    for (int i = 0; i < pendingCount; i++) {
      latencyUs.recordValue(pending[i]);
    }
    pendingCount = 0;
    encodedHistogram = null;
  }

  /** An exposure served (a failed request: an error). */
  void exposed(Exposure e) {
    if (e.error()) {
      errors++;
      return;
    }
    exposures++;
    degraded += e.degraded() ? 1 : 0;
    coldStarts += e.coldStart() ? 1 : 0;
    firstServed = Math.min(firstServed, e.timestamp());
    lastServed = Math.max(lastServed, e.timestamp());
    stateBytes += e.stateBytes();
    cpuMicros += Math.max(0, e.cpuMicros());
    if (pendingCount == PENDING) {
      foldPending();
    }
    pending[pendingCount++] = (int) Math.clamp(Math.round(e.tookMs() * 1000), 0, MAX_LATENCY_US);
  }

  /** This plus {@code other}: the aggregates of disjoint users (other partitions, instances). */
  public ArmAggregate merge(ArmAggregate other) {
    Histogram h = latency().copy();
    h.add(other.latency());
    ArmAggregate out = new ArmAggregate(hits.merge(other.hits), ndcg.merge(other.ndcg),
        reciprocalRank.merge(other.reciprocalRank), h);
    out.exposures = exposures + other.exposures;
    out.degraded = degraded + other.degraded;
    out.resolvedAsMiss = resolvedAsMiss + other.resolvedAsMiss;
    out.coldStarts = coldStarts + other.coldStarts;
    out.firstServed = Math.min(firstServed, other.firstServed);
    out.lastServed = Math.max(lastServed, other.lastServed);
    out.cpuMicros = cpuMicros + other.cpuMicros;
    out.errors = errors + other.errors;
    out.creditsPerformer = creditsPerformer + other.creditsPerformer;
    out.creditsSoftmax = creditsSoftmax + other.creditsSoftmax;
    out.preferPerformer = preferPerformer + other.preferPerformer;
    out.preferSoftmax = preferSoftmax + other.preferSoftmax;
    out.preferenceTies = preferenceTies + other.preferenceTies;
    out.stateBytes = stateBytes + other.stateBytes;
    return out;
  }

  byte[] toBytes() {
    // not the compressed (deflated) form: it is 6× slower (≈ 30 vs 5 µs) for ≈ 20 % fewer
    // bytes, the counts being varint- and zero-run-encoded already
    if (encodedHistogram == null) {
      ByteBuffer histogram = SCRATCH.get();
      int capacity = latencyUs.getNeededByteBufferCapacity();
      if (histogram == null || histogram.capacity() < capacity) {
        histogram = ByteBuffer.allocate(capacity);
        SCRATCH.set(histogram);
      }
      histogram.clear();
      int n = latencyUs.encodeIntoByteBuffer(histogram);
      encodedHistogram = java.util.Arrays.copyOf(histogram.array(), n);
    }
    int n = encodedHistogram.length;
    // one array of the exact size, written big-endian as DataOutputStream would (an aggregate is
    // written per exposure: a growing stream's copies were 4 % of a rerank's allocation)
    ByteBuffer out = ByteBuffer.allocate(FIXED_BYTES + Integer.BYTES + n + Integer.BYTES
        + pendingCount * Integer.BYTES);
    out.put((byte) FORMAT);
    for (UserMoments m : new UserMoments[] {hits, ndcg, reciprocalRank}) {
      out.putLong(m.users());
      putDouble(out, m.numerator());
      putDouble(out, m.denominator());
      putDouble(out, m.sumYY());
      putDouble(out, m.sumNN());
      putDouble(out, m.sumYN());
    }
    out.putLong(exposures);
    out.putLong(degraded);
    out.putLong(resolvedAsMiss);
    out.putLong(coldStarts);
    out.putLong(firstServed);
    out.putLong(lastServed);
    putDouble(out, cpuMicros);
    out.putLong(errors);
    out.putLong(creditsPerformer);
    out.putLong(creditsSoftmax);
    out.putLong(preferPerformer);
    out.putLong(preferSoftmax);
    out.putLong(preferenceTies);
    putDouble(out, stateBytes);
    out.putInt(n);
    out.put(encodedHistogram);
    out.putInt(pendingCount);
    for (int i = 0; i < pendingCount; i++) {
      out.putInt(pending[i]);
    }
    if (out.hasRemaining()) {
      throw new IllegalStateException("aggregate written short: " + out.remaining() + " bytes");
    }
    return out.array();
  }

  /** As DataOutputStream.writeDouble: NaN written as the one canonical NaN. */
  private static void putDouble(ByteBuffer out, double value) {
    out.putLong(Double.doubleToLongBits(value));
  }

  /** The bytes before the latency histogram: the format, 3 × 6 moments and 14 counters. */
  private static final int FIXED_BYTES = 1 + 3 * 6 * 8 + 14 * 8;

  static ArmAggregate fromBytes(byte[] bytes) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      int format = in.readUnsignedByte();
      if (format != FORMAT && format != FORMAT_HISTOGRAM_ONLY) {
        throw new IllegalArgumentException("unknown aggregate format " + format);
      }
      UserMoments[] m = new UserMoments[3];
      for (int i = 0; i < 3; i++) {
        m[i] = UserMoments.of(in.readLong(), in.readDouble(), in.readDouble(), in.readDouble(),
            in.readDouble(), in.readDouble());
      }
      long exposures = in.readLong();
      long degraded = in.readLong();
      long misses = in.readLong();
      long coldStarts = in.readLong();
      long firstServed = in.readLong();
      long lastServed = in.readLong();
      double cpuMicros = in.readDouble();
      long errors = in.readLong();
      long[] preference = new long[5];
      for (int i = 0; i < 5; i++) {
        preference[i] = in.readLong();
      }
      double stateBytes = in.readDouble();
      byte[] h = new byte[in.readInt()];
      in.readFully(h);
      Histogram histogram = Histogram.decodeFromByteBuffer(ByteBuffer.wrap(h), 0);
      ArmAggregate out = new ArmAggregate(m[0], m[1], m[2], histogram);
      out.encodedHistogram = h;
      if (format == FORMAT) {
        int pending = in.readInt();
        if (pending < 0 || pending > PENDING) {
          throw new IllegalArgumentException("corrupt aggregate: " + pending + " pending latencies");
        }
        for (int i = 0; i < pending; i++) {
          int latency = in.readInt();
          if (latency < 0 || latency > MAX_LATENCY_US) {
            throw new IllegalArgumentException("corrupt aggregate: latency " + latency + " µs");
          }
          out.pending[i] = latency;
        }
        out.pendingCount = pending;
      }
      if (in.available() > 0) {
        throw new IllegalArgumentException("corrupt aggregate: " + in.available()
            + " bytes past its end");
      }
      out.exposures = exposures;
      out.degraded = degraded;
      out.resolvedAsMiss = misses;
      out.coldStarts = coldStarts;
      out.firstServed = firstServed;
      out.lastServed = lastServed;
      out.cpuMicros = cpuMicros;
      out.errors = errors;
      out.creditsPerformer = preference[0];
      out.creditsSoftmax = preference[1];
      out.preferPerformer = preference[2];
      out.preferSoftmax = preference[3];
      out.preferenceTies = preference[4];
      out.stateBytes = stateBytes;
      return out;
    } catch (IllegalArgumentException e) {
      throw e;
    } catch (IOException | RuntimeException e) { // truncated or garbled bytes
      throw new IllegalArgumentException("corrupt aggregate", e);
    }
  }
}
