package dev.reranker.testing;

import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Time a test moves by hand: one instant read both as a {@link Clock} (wall time, what the engine
 * stamps snapshots with) and as a Caffeine {@link Ticker} (what the state cache expires by).
 */
public final class ManualTime extends Clock implements Ticker {

  private final AtomicLong nanos;

  public ManualTime(long epochMillis) {
    this.nanos = new AtomicLong(epochMillis * 1_000_000L);
  }

  public void advance(Duration d) {
    nanos.addAndGet(d.toNanos());
  }

  /** Moves to an instant (forward or back: a simulation's clock). */
  public void set(long epochMillis) {
    nanos.set(epochMillis * 1_000_000L);
  }

  @Override
  public long read() {
    return nanos.get();
  }

  @Override
  public long millis() {
    return nanos.get() / 1_000_000L;
  }

  @Override
  public Instant instant() {
    return Instant.ofEpochMilli(millis());
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    throw new UnsupportedOperationException("a manual clock is UTC");
  }
}
