package dev.reranker.state;

import dev.reranker.model.Arm;
import dev.reranker.model.BatchFolder;
import dev.reranker.model.EncoderState;
import dev.reranker.model.IncrementalEncoder;
import dev.reranker.model.OrderSignal;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Keeps users' encoder states current: the fold from stored history into cached states, exact and
 * lazy.
 *
 * <h2>Design</h2>
 * A state knows how far into the user's stored history it has read ({@link
 * CachedState#historyPosition()}). Bringing it current folds only the events after that position
 * ({@link #catchUp} for many users at once, {@link #current} for one). Items the model does not know
 * stay in the history but are invisible to the model: they are read past, not encoded.
 * <ul>
 *   <li><b>Performer</b>: the state is a fold over the user's whole history. On a cache miss it is
 *   rebuilt from the latest snapshot (if it still connects to the retained history) plus the
 *   retained events after it, or from the retained history alone if that starts at the first event.
 *   Otherwise only the retained events can be encoded, and the entry is marked
 *   {@link CachedState#partial()}. Snapshots are written every N events or T of wall time per
 *   user with unsaved events, and always before the history could drop unsnapshotted events.</li>
 *   <li><b>Softmax</b> (the baseline): the state is the encoding of the user's last W known events;
 *   catching up re-encodes them.</li>
 * </ul>
 * Small catch-ups fold event by event on plain arrays ({@link IncrementalEncoder}); larger ones go
 * through one batched ND4J pass for all users ({@link BatchFolder}), which amortises ND4J's fixed
 * cost per operation. Both give the same state.
 *
 * <p>Thread-safety: entries are locked while folded or read. {@link #catchUp} for disjoint users may
 * run on several threads (Kafka Streams tasks own disjoint users).
 */
public final class UserStates {

  /**
   * @param snapshotEveryEvents N: snapshot a performer state after this many new history events
   * @param snapshotInterval T: or when it has unsaved events this much older than its last snapshot
   * @param softmaxWindow W: the baseline's window of most recent events
   * @param batchThreshold catch-ups with more new events than this run as one batched pass
   * @param historyLimit events retained per user (snapshots are forced well before events that
   *     only they could cover are dropped)
   */
  public record Settings(long snapshotEveryEvents, Duration snapshotInterval, int softmaxWindow,
      int batchThreshold, int historyLimit) {
    public Settings {
      if (snapshotEveryEvents < 1 || softmaxWindow < 1 || batchThreshold < 0 || historyLimit < 2) {
        throw new IllegalArgumentException("invalid state settings: " + this);
      }
      if (snapshotEveryEvents > historyLimit / 2) {
        throw new IllegalArgumentException("snapshot cadence (" + snapshotEveryEvents
            + " events) must be at most half the history retention (" + historyLimit
            + "), or restores could miss events");
      }
    }

    public static Settings defaults() {
      return new Settings(1000, Duration.ofSeconds(60), 200, 64, 10_000);
    }
  }

  /**
   * A batched pass pays off only when users bring several events each: with one new event for each
   * of 2,000 users it ran at 29 µs per event (thousands of tiny per-sequence products), against
   * 18 µs for folding each event on plain arrays.
   */
  static final int BATCH_EVENTS_PER_USER = 8;

  private volatile Map<Arm, ActiveModel> models;
  private final StateCache cache;
  private final Clock clock;
  private final Settings settings;
  private final Counter foldedEvents;
  private final Counter skippedEvents;
  private final Counter rebuilds;
  private final Counter partialRebuilds;
  private final Counter snapshotCount;
  private final Counter snapshotBytes;
  private final Timer catchUpTimer;

  public UserStates(Map<Arm, ActiveModel> models, StateCache cache, Clock clock, Settings settings,
      MeterRegistry registry) {
    this.models = new EnumMap<>(models);
    this.cache = cache;
    this.clock = clock;
    this.settings = settings;
    MeterRegistry r = registry == null ? new SimpleMeterRegistry() : registry;
    this.foldedEvents = Counter.builder("reranker.state.folded.events")
        .description("history events folded into states").register(r);
    this.skippedEvents = Counter.builder("reranker.state.skipped.events")
        .description("history events whose item the model does not know (read past)").register(r);
    this.rebuilds = Counter.builder("reranker.state.rebuilds")
        .description("states rebuilt after a cache miss").register(r);
    this.partialRebuilds = Counter.builder("reranker.state.partial.rebuilds")
        .description("rebuilds that could only see the retained history").register(r);
    this.snapshotCount = Counter.builder("reranker.state.snapshots").register(r);
    this.snapshotBytes = Counter.builder("reranker.state.snapshot.bytes").baseUnit("bytes")
        .register(r);
    this.catchUpTimer = Timer.builder("reranker.state.catchup").register(r);
  }

  public Settings settings() {
    return settings;
  }

  public StateCache cache() {
    return cache;
  }

  public ActiveModel model(Arm arm) {
    ActiveModel m = models.get(arm);
    if (m == null) {
      throw new IllegalStateException("no model is active for the " + arm.wireName() + " arm");
    }
    return m;
  }

  public Map<Arm, ActiveModel> models() {
    return models;
  }

  /** Swaps the active model of an arm; its states of the old version are dropped (rebuilt lazily). */
  public void activate(ActiveModel model) {
    Map<Arm, ActiveModel> next = new EnumMap<>(models);
    next.put(model.arm(), model);
    models = next;
    cache.entries(model.arm()).forEach((user, entry) -> {
      if (!entry.state().modelVersion().equals(model.version())) {
        cache.invalidate(new StateKey(user, model.arm()));
      }
    });
  }

  /**
   * The state operations over one source of histories and snapshots: in the ingestion, one Kafka
   * Streams task's stores; in serving, the stores of every local task. Sessions share the cache and
   * the models.
   */
  public Session session(HistoryReader history, SnapshotStore snapshots) {
    return new Session(history, snapshots);
  }

  /**
   * What {@link Session#currentIfCheap} found: {@code done} with the caught-up state (null: no
   * history), or not done because catching up is not cheap.
   */
  public record Quick(boolean done, CachedState state) {
    public static final Quick NOT_CHEAP = new Quick(false, null);
    public static final Quick NO_HISTORY = new Quick(true, null);
  }

  /** State operations bound to a history reader and a snapshot store (which may be null). */
  public final class Session {
    private final HistoryReader history;
    private final SnapshotStore snapshots;

    private Session(HistoryReader history, SnapshotStore snapshots) {
      this.history = history;
      this.snapshots = snapshots;
    }

    /** One user's state for one arm, brought current (null if the user has no history). */
    public CachedState current(String userId, Arm arm) {
      List<CachedState> done = catchUp(List.of(userId), arm);
      return done.isEmpty() ? null : done.get(0);
    }

    /**
     * {@link #current} when that is cheap, else {@link Quick#NOT_CHEAP}: cheap means the user has
     * no history, or the cache holds their state for the active model version and it is at most
     * {@code maxPendingPerformer} events behind the history (performer: a fold each) or not behind
     * at all (softmax: a pending event re-encodes the window). A cheap catch-up can run on a
     * request's own thread; anything else (a rebuild from a snapshot or the history) belongs
     * where a deadline can abandon it.
     */
    public Quick currentIfCheap(String userId, Arm arm, int maxPendingPerformer) {
      ActiveModel model = model(arm);
      HistoryReader.Extent extent = history.extent(userId);
      if (extent.next() == 0) {
        return Quick.NO_HISTORY;
      }
      CachedState entry = cache.getIfPresent(new StateKey(userId, arm));
      long behind = entry == null ? Long.MAX_VALUE : extent.next() - entry.historyPosition();
      boolean cheap = entry != null && behind >= 0
          && entry.state().modelVersion().equals(model.version())
          && (arm == Arm.PERFORMER ? behind <= maxPendingPerformer
              && entry.historyPosition() >= extent.first() : behind == 0);
      if (!cheap) {
        return Quick.NOT_CHEAP;
      }
      // nothing pending: the cached entry is current (a fold racing with this read only makes it
      // newer); else the catch-up folds the few pending events
      return new Quick(true, behind == 0 ? entry : current(userId, arm));
    }

    /** What one user's catch-up needs. */
    private record Job(String userId, CachedState entry, boolean cached, int[] items,
        long[] timestamps, long firstPosition, long previousTimestamp, long newHistoryPosition,
        int skipped) {
      Job withSkipped(int n) {
        return new Job(userId, entry, cached, items, timestamps, firstPosition, previousTimestamp,
            newHistoryPosition, n);
      }
    }

    /**
     * Brings the states of {@code users} for {@code arm} up to date with their stored histories, in
     * one batched pass where that pays off. Returns the entries (users without history are left out).
     */
    public List<CachedState> catchUp(Collection<String> users, Arm arm) {
      ActiveModel model = model(arm);
      long start = System.nanoTime();
      List<Job> jobs = new ArrayList<>();
      for (String user : users) {
        Job job = prepare(user, model);
        if (job != null) {
          jobs.add(job);
        }
      }
      jobs.sort(Comparator.comparing(Job::userId)); // a fixed lock order
      for (Job job : jobs) {
        job.entry().lock().lock();
      }
      try {
        execute(jobs, model);
      } finally {
        for (Job job : jobs) {
          job.entry().lock().unlock();
        }
      }
      catchUpTimer.record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
      return jobs.stream().map(Job::entry).toList();
    }

    private Job prepare(String user, ActiveModel model) {
      HistoryReader.Extent extent = history.extent(user);
      if (extent.next() == 0) {
        return null;
      }
      StateKey key = new StateKey(user, model.arm());
      CachedState entry = cache.getIfPresent(key);
      if (entry != null && (entry.historyPosition() > extent.next()
          || !entry.state().modelVersion().equals(model.version()))) {
        // ahead of the history (events reprocessed after an aborted transaction) or stale: rebuild
        cache.invalidate(key);
        entry = null;
      }
      boolean cached = entry != null;
      if (model.arm() == Arm.PERFORMER) {
        if (entry == null || entry.historyPosition() < extent.first()) {
          entry = startPerformer(user, model, extent);
        }
        List<HistoryEvent> events = entry.historyPosition() == extent.next() ? List.of()
            : history.events(user, entry.historyPosition(), extent.next());
        return job(user, entry, cached, model, events, 0, OrderSignal.NO_PREVIOUS, extent.next());
      }
      if (entry == null) {
        entry = new CachedState(model.encoder().newState(), 0, 0, clock.millis(), false);
        rebuilds.increment();
      }
      if (entry.historyPosition() == extent.next()) {
        return new Job(user, entry, cached, new int[0], new long[0], 0, 0, extent.next(), 0);
      }
      return softmaxWindow(user, entry, cached, model, extent);
    }

    /** A performer state to fold from: a snapshot, the empty state, or a partial start. */
    private CachedState startPerformer(String user, ActiveModel model, HistoryReader.Extent extent) {
      rebuilds.increment();
      long now = clock.millis();
      if (snapshots != null) {
        Optional<SnapshotStore.Snapshot> snapshot = snapshots.load(user, model.version());
        if (snapshot.isPresent() && snapshot.get().historyPosition() >= extent.first()
            && snapshot.get().historyPosition() <= extent.next()) {
          try {
            EncoderState state = EncoderState.fromBytes(snapshot.get().state());
            return new CachedState(state, snapshot.get().historyPosition(),
                snapshot.get().historyPosition(), now, false);
          } catch (IOException e) {
            // a corrupt snapshot is not fatal: fall through to the history
          }
        }
      }
      boolean partial = extent.first() > 0;
      if (partial) {
        partialRebuilds.increment();
      }
      return new CachedState(model.encoder().newState(), extent.first(), extent.first(), now, partial);
    }

    private Job job(String user, CachedState entry, boolean cached, ActiveModel model,
        List<HistoryEvent> events, long firstPosition, long previousTimestamp, long next) {
      int[] items = new int[events.size()];
      long[] times = new long[events.size()];
      int n = 0;
      for (HistoryEvent e : events) {
        int index = model.itemIndex(e.itemId());
        if (index >= 0) {
          items[n] = index;
          times[n++] = e.timestamp();
        }
      }
      return new Job(user, entry, cached, java.util.Arrays.copyOf(items, n),
          java.util.Arrays.copyOf(times, n), firstPosition, previousTimestamp, next,
          events.size() - n);
    }

    /**
     * The softmax arm's work: the last W known events of the retained history. The model position of
     * the window's first event counts the known events before it; events no longer retained are
     * counted as known (exact whenever the history is complete or has no unknown items).
     */
    private Job softmaxWindow(String user, CachedState entry, boolean cached, ActiveModel model,
        HistoryReader.Extent extent) {
      int w = settings.softmaxWindow();
      long from = Math.max(extent.first(), extent.next() - 2L * w);
      List<HistoryEvent> events = history.events(user, from, extent.next());
      List<HistoryEvent> known = events.stream().filter(e -> model.itemIndex(e.itemId()) >= 0)
          .toList();
      if (known.size() <= w && from > extent.first()) { // the window may need what lies before
        from = extent.first();
        events = history.events(user, from, extent.next());
        known = events.stream().filter(e -> model.itemIndex(e.itemId()) >= 0).toList();
      }
      int knownBefore = Math.max(0, known.size() - w);
      List<HistoryEvent> window = known.subList(knownBefore, known.size());
      if (window.isEmpty()) {
        return new Job(user, entry, cached, new int[0], new long[0], 0, 0, extent.next(),
            events.size());
      }
      long firstPosition = from + knownBefore;
      long previous = knownBefore > 0 ? known.get(knownBefore - 1).timestamp()
          : OrderSignal.NO_PREVIOUS; // the window starts the retained history
      return job(user, entry, cached, model, window, firstPosition, previous, extent.next())
          .withSkipped(events.size() - known.size());
    }

    private void execute(List<Job> jobs, ActiveModel model) {
      IncrementalEncoder encoder = model.encoder();
      List<BatchFolder.Work> batched = new ArrayList<>();
      int events = jobs.stream().mapToInt(j -> j.items().length).sum();
      long folding = jobs.stream().filter(j -> j.items().length > 0).count();
      boolean batch = model.arm() == Arm.SOFTMAX || (events > settings.batchThreshold()
          && events >= BATCH_EVENTS_PER_USER * folding);
      for (Job job : jobs) {
        CachedState entry = job.entry();
        EncoderState state = entry.state();
        if (job.items().length > 0) {
          if (model.arm() == Arm.SOFTMAX) {
            EncoderState fresh = encoder.newState(); // the window is re-encoded from scratch
            entry.replace(fresh, entry.historyPosition());
            batched.add(new BatchFolder.Work(fresh, job.items(), job.timestamps(),
                job.firstPosition(), job.previousTimestamp()));
          } else if (batch) {
            batched.add(new BatchFolder.Work(state, job.items(), job.timestamps(), 0, 0));
          } else {
            for (int i = 0; i < job.items().length; i++) {
              encoder.fold(state, job.items()[i], job.timestamps()[i]);
            }
          }
        }
        foldedEvents.increment(job.items().length);
        skippedEvents.increment(job.skipped());
      }
      if (!batched.isEmpty()) {
        model.folder().run(batched);
      }
      for (Job job : jobs) {
        job.entry().advanced(job.newHistoryPosition());
        cache.put(new StateKey(job.userId(), model.arm()), job.entry()); // insert or re-weigh
      }
    }

    /**
     * Writes the snapshots that are due for these users' performer states (every N events, every T
     * of wall time with unsaved events, or — {@code force} — now).
     *
     * @return the users snapshotted and at which history position
     */
    public Map<String, Long> snapshotDue(Collection<String> users, boolean force) {
      Map<String, Long> written = new java.util.HashMap<>();
      if (snapshots == null || !models.containsKey(Arm.PERFORMER)) {
        return written;
      }
      ActiveModel model = model(Arm.PERFORMER);
      long now = clock.millis();
      for (String user : users) {
        CachedState entry = cache.getIfPresent(new StateKey(user, Arm.PERFORMER));
        if (entry == null) {
          continue;
        }
        entry.lock().lock();
        try {
          long unsaved = entry.historyPosition() - entry.snapshotPosition();
          boolean due = unsaved >= settings.snapshotEveryEvents()
              || (unsaved > 0 && now - entry.snapshotMillis() >= settings.snapshotInterval()
                  .toMillis())
              || (force && unsaved > 0);
          if (due && !entry.partial()) {
            byte[] bytes = entry.state().toBytes();
            snapshots.save(user, model.version(), new SnapshotStore.Snapshot(
                entry.historyPosition(), bytes));
            entry.snapshotted(entry.historyPosition(), now);
            snapshotCount.increment();
            snapshotBytes.increment(bytes.length + 8);
            written.put(user, entry.historyPosition());
          }
        } finally {
          entry.lock().unlock();
        }
      }
      return written;
    }
  }
}
