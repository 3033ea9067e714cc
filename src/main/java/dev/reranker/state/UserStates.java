package dev.reranker.state;

import dev.reranker.model.Arm;
import dev.reranker.model.EncoderBackend;
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
 * Small catch-ups fold event by event on plain arrays ({@link IncrementalEncoder}, the users in
 * blocks: {@link IncrementalEncoder#foldEach}); larger ones go through one batched pass for all
 * users (the model's {@link EncoderBackend}: ND4J or the GPU), which amortises the backend's fixed
 * cost per operation. All give the same state.
 *
 * <p>Thread-safety: an entry has one owner at a time. A catch-up locks each entry before it reads
 * the entry's position and pending events, and unlocks it once the fold is written back; readers
 * lock it too. So request threads and stream threads may catch up the same users concurrently:
 * each event is folded once. After each catch-up an entry must satisfy {@code folded + unfolded ==
 * history position} ({@link CachedState#consistent()}); one that does not is logged, counted
 * ({@code reranker.state.invariant.violations}), dropped and rebuilt, never served.
 */
public final class UserStates {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(UserStates.class);

  /**
   * @param snapshotEveryEvents N: snapshot a performer state after this many new history events
   * @param snapshotInterval T: or when it has unsaved events this much older than its last snapshot
   * @param softmaxWindow W: the baseline's window of most recent events
   * @param batchThreshold catch-ups with more new events than this run as one batched pass
   *     (the history's retention is the ingestion's setting; it checks the cadence against it)
   */
  public record Settings(long snapshotEveryEvents, Duration snapshotInterval, int softmaxWindow,
      int batchThreshold) {
    public Settings {
      if (snapshotEveryEvents < 1 || snapshotInterval == null || snapshotInterval.isNegative()
          || softmaxWindow < 1 || batchThreshold < 0) {
        throw new IllegalArgumentException("invalid state settings: " + this);
      }
    }

    /** The defaults (the service's too: {@code reranker.state.*} falls back to these). */
    public static Settings defaults() {
      return new Settings(1000, Duration.ofSeconds(60), 200, 64);
    }
  }

  /**
   * A batched pass pays off only when users bring several events each: with one new event for each
   * of 2,000 users it ran at 29 µs per event (thousands of tiny per-sequence products), against
   * 18 µs for folding each event on plain arrays (2026-12-05; since then the backend's own short
   * windows fold on plain arrays too, in blocks over the cores, and this thread's in blocks).
   */
  static final int BATCH_EVENTS_PER_USER = 8;

  private final ModelRegistry models;
  private final StateCache cache;
  private final Clock clock;
  private final Settings settings;
  private final Counter foldedEvents;
  private final Map<Arm, FoldCost> foldCosts = new java.util.EnumMap<>(Arm.class);
  private final Counter skippedEvents;
  private final Counter rebuilds;
  private final Counter partialRebuilds;
  private final Counter snapshotCount;
  private final Counter snapshotBytes;
  private final Timer catchUpTimer;
  private final Counter invariantViolations;

  public UserStates(ModelRegistry models, StateCache cache, Clock clock, Settings settings,
      MeterRegistry registry) {
    this.models = models;
    this.cache = cache;
    models.onActivate(this::dropStaleStates);
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
    for (Arm arm : Arm.values()) {
      foldCosts.put(arm, new FoldCost(Timer.builder("reranker.state.fold")
          .description("folding events into states (the encoder's work, without reading them)")
          .tag("arm", arm.wireName()).register(r), Counter.builder("reranker.state.fold.events")
          .tag("arm", arm.wireName()).register(r)));
    }
    this.invariantViolations = Counter.builder("reranker.state.invariant.violations")
        .description("states found inconsistent with their history after a catch-up (a fold "
            + "applied twice or an event missed); each was dropped and rebuilt").register(r);
  }

  public Settings settings() {
    return settings;
  }

  /** The encoder time spent folding an arm's events on this instance, and how many it folded. */
  public static final class FoldCost {
    private final Timer time;
    private final Counter events;

    FoldCost(Timer time, Counter events) {
      this.time = time;
      this.events = events;
    }

    void record(long n, long nanos) {
      time.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
      events.increment(n);
    }

    public long events() {
      return (long) events.count();
    }

    public long nanos() {
      return (long) time.totalTime(java.util.concurrent.TimeUnit.NANOSECONDS);
    }
  }

  /** This instance's fold cost of an arm since it started. */
  public FoldCost foldCost(Arm arm) {
    return foldCosts.get(arm);
  }

  public StateCache cache() {
    return cache;
  }

  /** The active models (activating one drops its arm's states of other versions). */
  public ModelRegistry models() {
    return models;
  }

  private ActiveModel model(Arm arm) {
    return models.get(arm);
  }

  /** After an activation: the arm's states of other versions are dropped (rebuilt lazily). */
  private void dropStaleStates(ActiveModel model) {
    cache.entries(model.arm()).forEach((user, entry) -> {
      if (!entry.state().modelVersion().equals(model.version())) {
        cache.invalidate(new StateKey(user, model.arm()));
      }
    });
  }

  /** Pending performer events a request folds on its own thread (≈ 15 µs each). */
  static final int MAX_PENDING_ON_CALLER = 8;

  /**
   * The read API over sessions that {@code sessions} opens, one per read (it throws {@link
   * StateUnavailableException} when it cannot): the service's over the ingestion's stores, a
   * test's over in-memory ones.
   */
  public StateReader reader(java.util.function.Supplier<Session> sessions) {
    return new StateReader() {
      @Override
      public ModelRegistry models() {
        return models;
      }

      @Override
      public int softmaxWindow() {
        return settings.softmaxWindow();
      }

      @Override
      public Optional<StateView> read(String userId, Arm arm) {
        CachedState entry = sessions.get().current(userId, arm);
        return entry == null ? Optional.empty() : Optional.of(StateView.of(arm, entry));
      }

      @Override
      public Cheap readIfCheap(String userId, Arm arm) {
        return sessions.get().currentIfCheap(userId, arm, MAX_PENDING_ON_CALLER);
      }
    };
  }

  /**
   * The state operations over one source of histories and snapshots: in the ingestion, one Kafka
   * Streams task's stores; in serving, the stores of every local task. Sessions share the cache and
   * the models.
   */
  public Session session(HistoryReader history, SnapshotStore snapshots) {
    return new Session(history, snapshots);
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
     * {@link #current} (as a view) when that is cheap, else {@link StateReader.Cheap#NOT_CHEAP}: cheap means the user has
     * no history, or the cache holds their state for the active model version and it is at most
     * {@code maxPendingPerformer} events behind the history (performer: a fold each) or not behind
     * at all (softmax: a pending event re-encodes the window). A cheap catch-up can run on a
     * request's own thread; anything else (a rebuild from a snapshot or the history) belongs
     * where a deadline can abandon it.
     */
    StateReader.Cheap currentIfCheap(String userId, Arm arm, int maxPendingPerformer) {
      ActiveModel model = model(arm);
      HistoryReader.Extent extent = history.extent(userId);
      if (extent.next() == 0) {
        return StateReader.Cheap.NO_HISTORY;
      }
      CachedState entry = cache.getIfPresent(new StateKey(userId, arm));
      long behind = entry == null ? Long.MAX_VALUE : extent.next() - entry.historyPosition();
      boolean cheap = entry != null && behind >= 0
          && entry.state().modelVersion().equals(model.version())
          && (arm == Arm.PERFORMER ? behind <= maxPendingPerformer
              && entry.historyPosition() >= extent.first() : behind == 0);
      if (!cheap || entry.lock().isLocked()) {
        // a locked entry is being folded or snapshotted, by the stream thread as a rule, which
        // can wait on Kafka meanwhile (a store write waiting for the producer's metadata while the
        // cluster is away): waiting for it belongs where the request's deadline can abandon it.
        // In the broker-kill fault test a request thread waited here for longer than the
        // client's 10 s timeout.
        return StateReader.Cheap.NOT_CHEAP;
      }
      // nothing pending: the cached entry is current (a fold racing with this read only makes it
      // newer); else the catch-up folds the few pending events
      CachedState state = behind == 0 ? entry : current(userId, arm);
      if (state == null) {
        return StateReader.Cheap.NO_HISTORY;
      }
      StateView view = StateView.tryOf(arm, state);
      return view == null ? StateReader.Cheap.NOT_CHEAP : new StateReader.Cheap.Current(view);
    }

    /**
     * What one user's catch-up needs. Its entry is locked from {@link #prepare} to the end of
     * {@link #catchUp}: the position and the pending events were read under that lock.
     *
     * @param unfoldedAfter the entry's count of unfolded events once this job is applied
     */
    private record Job(String userId, CachedState entry, int[] items, long[] timestamps,
        long firstPosition, long previousTimestamp, long newHistoryPosition, long unfoldedAfter,
        int skipped) {}

    /**
     * Brings the states of {@code users} for {@code arm} up to date with their stored histories, in
     * one batched pass where that pays off. Returns the entries (users without history are left out).
     *
     * <p>One owner per entry: each entry is locked <em>before</em> its position and pending events
     * are read, and stays locked until the fold is written back, so a request thread and the stream
     * thread catching up the same user cannot both fold the same events. Users are locked in a fixed
     * (sorted) order, so two catch-ups over overlapping users cannot deadlock.
     */
    public List<CachedState> catchUp(Collection<String> users, Arm arm) {
      ActiveModel model = model(arm);
      long start = System.nanoTime();
      Folded done = foldLocked(users, model);
      catchUpTimer.record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
      if (done.broken().isEmpty()) {
        return done.entries();
      }
      // rebuilt from the stores; a second violation is a bug to report, not to serve
      Folded rebuilt = foldLocked(done.broken(), model);
      if (!rebuilt.broken().isEmpty()) {
        throw new IllegalStateException("the " + arm.wireName() + " states of "
            + rebuilt.broken() + " are inconsistent with their histories even after a rebuild");
      }
      List<CachedState> out = new ArrayList<>(done.entries());
      out.addAll(rebuilt.entries());
      return out;
    }

    /** What one locked pass yields: the caught-up entries, and the users whose entry broke. */
    private record Folded(List<CachedState> entries, List<String> broken) {}

    /** Locks the users' entries in sorted order, folds, writes back and unlocks. */
    private Folded foldLocked(Collection<String> users, ActiveModel model) {
      List<Job> jobs = new ArrayList<>();
      try {
        for (String user : new java.util.TreeSet<>(users)) {
          Job job = prepare(user, model);
          if (job != null) {
            jobs.add(job);
          }
        }
        List<String> broken = execute(jobs, model);
        List<CachedState> entries = new ArrayList<>(jobs.size());
        for (Job job : jobs) {
          if (!broken.contains(job.userId())) {
            entries.add(job.entry());
          }
        }
        return new Folded(entries, broken);
      } catch (RuntimeException | Error e) {
        // a fold that failed halfway leaves states no one can vouch for: rebuild them next time
        for (Job job : jobs) {
          drop(job.userId(), model.arm(), job.entry());
        }
        throw e;
      } finally {
        for (Job job : jobs) {
          job.entry().lock().unlock();
        }
      }
    }

    /**
     * Locks the user's entry (the cached one, or a new one), then reads what its catch-up needs.
     * Returns null, holding no lock, for a user without history.
     */
    private Job prepare(String user, ActiveModel model) {
      StateKey key = new StateKey(user, model.arm());
      CachedState entry;
      while (true) {
        entry = cache.getIfPresent(key);
        if (entry == null) {
          break;
        }
        entry.lock().lock();
        if (!entry.retired()) {
          break;
        }
        entry.lock().unlock(); // another catch-up dropped it meanwhile: look again
      }
      try {
        HistoryReader.Extent extent = history.extent(user);
        if (extent.next() == 0) {
          if (entry != null) {
            entry.lock().unlock();
          }
          return null;
        }
        if (entry != null && (entry.historyPosition() > extent.next()
            || !entry.state().modelVersion().equals(model.version()))) {
          // ahead of the history (events reprocessed after an aborted transaction) or stale: rebuild
          drop(user, model.arm(), entry);
          entry.lock().unlock();
          entry = null;
        }
        boolean performer = model.arm() == Arm.PERFORMER;
        if (entry == null || (performer && entry.historyPosition() < extent.first())) {
          CachedState fresh = performer ? startPerformer(user, model, extent) : startSoftmax(model);
          fresh.lock().lock(); // not yet visible to anyone: uncontended
          if (entry != null) {
            entry.lock().unlock();
          }
          entry = fresh;
        }
        return performer ? performerJob(user, entry, model, extent)
            : softmaxJob(user, entry, model, extent);
      } catch (RuntimeException | Error e) {
        if (entry != null) {
          entry.lock().unlock();
        }
        throw e;
      }
    }

    /** Removes the entry from the cache if it is still the one cached, and marks it retired. */
    private void drop(String user, Arm arm, CachedState entry) {
      entry.retire();
      cache.invalidate(new StateKey(user, arm), entry);
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
            long at = snapshot.get().historyPosition();
            if (state.position() <= at) {
              return new CachedState(state, at, at - state.position(), at, now, false);
            }
            // a snapshot that claims more folded events than it read is corrupt: not used
          } catch (IOException e) {
            // a corrupt snapshot is not fatal: fall through to the history
          }
        }
      }
      boolean partial = extent.first() > 0;
      if (partial) {
        partialRebuilds.increment();
      }
      return new CachedState(model.encoder().newState(), extent.first(), extent.first(),
          extent.first(), now, partial);
    }

    private CachedState startSoftmax(ActiveModel model) {
      rebuilds.increment();
      return new CachedState(model.encoder().newState(), 0, 0, 0, clock.millis(), false);
    }

    /** The performer's work: fold the events after the state's position. */
    private Job performerJob(String user, CachedState entry, ActiveModel model,
        HistoryReader.Extent extent) {
      long from = entry.historyPosition();
      KnownScan scan = scan(from == extent.next() ? List.of()
          : history.events(user, from, extent.next()), from, model);
      return new Job(user, entry, java.util.Arrays.copyOf(scan.items(), scan.size()),
          java.util.Arrays.copyOf(scan.times(), scan.size()), 0, OrderSignal.NO_PREVIOUS,
          extent.next(), entry.unfolded() + scan.unknownAfter(), scan.unknownAfter());
    }

    /**
     * The softmax arm's work: the user's last W known events, each at its position among the
     * user's known events and with the gap to the known event before it — the same window that
     * training, offline evaluation and a stateless request encode ({@code Batch.Window.lastEvents}
     * over the known events). The count of known events before the window is exact: the entry
     * knows how many it had folded by its position, and the events since are read. Events that
     * left the retained history before any state read them are counted as known (their items
     * cannot be checked any more); with them gone, a window that starts the retained history has
     * no previous gap.
     */
    private Job softmaxJob(String user, CachedState entry, ActiveModel model,
        HistoryReader.Extent extent) {
      long at = entry.historyPosition();
      long knownAt = at - entry.unfolded(); // known events before `at` (the state's position)
      if (at == extent.next()) {
        return new Job(user, entry, new int[0], new long[0], 0, 0, at, entry.unfolded(), 0);
      }
      if (at < extent.first()) { // events between `at` and the retained history are gone
        knownAt += extent.first() - at;
        at = extent.first();
      }
      int w = settings.softmaxWindow();
      long from = Math.min(at, Math.max(extent.first(), extent.next() - 2L * w));
      KnownScan scan = scan(history.events(user, from, extent.next()), at, model);
      if (scan.size() <= w && from > extent.first()) { // the window or its gap lies further back
        from = extent.first();
        scan = scan(history.events(user, from, extent.next()), at, model);
      }
      long knownBeforeFrom = knownAt - scan.knownBefore();
      long unfoldedAfter = extent.next() - (knownBeforeFrom + scan.size());
      int start = Math.max(0, scan.size() - w);
      if (start == scan.size()) { // no known event at all
        return new Job(user, entry, new int[0], new long[0], 0, 0, extent.next(), unfoldedAfter,
            scan.unknownAfter());
      }
      long previous = start > 0 ? scan.times()[start - 1] : OrderSignal.NO_PREVIOUS;
      return new Job(user, entry, java.util.Arrays.copyOfRange(scan.items(), start, scan.size()),
          java.util.Arrays.copyOfRange(scan.times(), start, scan.size()), knownBeforeFrom + start,
          previous, extent.next(), unfoldedAfter, scan.unknownAfter());
    }

    /**
     * The known events of a read range in one pass: their item indexes and timestamps, how many
     * of them lie before {@code at}, how many unknown ones lie at or after it.
     */
    private record KnownScan(int[] items, long[] times, int size, long knownBefore,
        int unknownAfter) {}

    private KnownScan scan(List<HistoryEvent> events, long at, ActiveModel model) {
      int[] items = new int[events.size()];
      long[] times = new long[events.size()];
      int n = 0;
      long knownBefore = 0;
      int unknownAfter = 0;
      for (HistoryEvent e : events) {
        int index = model.itemIndex(e.itemId());
        if (index >= 0) {
          items[n] = index;
          times[n++] = e.timestamp();
          knownBefore += e.position() < at ? 1 : 0;
        } else if (e.position() >= at) {
          unknownAfter++;
        }
      }
      return new KnownScan(items, times, n, knownBefore, unknownAfter);
    }

    /**
     * Folds the prepared jobs (their entries locked) and writes them back; returns the users whose
     * entry broke the folded-count invariant (dropped from the cache, to be rebuilt).
     */
    private List<String> execute(List<Job> jobs, ActiveModel model) {
      long started = System.nanoTime();
      IncrementalEncoder encoder = model.encoder();
      List<EncoderBackend.Work> batched = new ArrayList<>();
      // short performer catch-ups, folded on this thread in blocks of users (foldEach: the same
      // bits as one user at a time; 2.1 against 2.9 µs per event for 2,000 users' states no cache
      // holds, 2-core AMD EPYC)
      List<EncoderState> plainStates = new ArrayList<>();
      List<int[]> plainItems = new ArrayList<>();
      List<long[]> plainTimes = new ArrayList<>();
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
            entry.replace(fresh);
            batched.add(new EncoderBackend.Work(fresh, job.items(), job.timestamps(),
                job.firstPosition(), job.previousTimestamp()));
          } else if (batch) {
            batched.add(new EncoderBackend.Work(state, job.items(), job.timestamps(), 0, 0));
          } else {
            plainStates.add(state);
            plainItems.add(job.items());
            plainTimes.add(job.timestamps());
          }
        }
        foldedEvents.increment(job.items().length);
        skippedEvents.increment(job.skipped());
      }
      if (!plainStates.isEmpty()) {
        encoder.foldEach(plainStates, plainItems, plainTimes);
      }
      if (!batched.isEmpty()) {
        model.backend().fold(batched);
      }
      if (events > 0) {
        foldCosts.get(model.arm()).record(events, System.nanoTime() - started);
      }
      List<String> broken = List.of();
      for (Job job : jobs) {
        CachedState entry = job.entry();
        // checked before the position moves: a broken entry never looks current to a reader
        if (entry.state().position() + job.unfoldedAfter() != job.newHistoryPosition()) {
          invariantViolations.increment();
          log.error("{} state of user {} is inconsistent after a catch-up: {} events folded, {} "
              + "not folded, history position {}; dropped and rebuilt from the stores",
              model.arm().wireName(), job.userId(), entry.state().position(), job.unfoldedAfter(),
              job.newHistoryPosition());
          drop(job.userId(), model.arm(), entry);
          if (broken.isEmpty()) {
            broken = new ArrayList<>();
          }
          broken.add(job.userId());
          continue;
        }
        entry.advanced(job.newHistoryPosition(), job.unfoldedAfter());
        cache.put(new StateKey(job.userId(), model.arm()), entry); // insert or re-weigh
      }
      return broken;
    }

    /**
     * Writes the snapshots that are due for these users' performer states (every N events, every T
     * of wall time with unsaved events, or — {@code force} — now).
     *
     * @return the users snapshotted and at which history position
     */
    public Map<String, Long> snapshotDue(Collection<String> users, boolean force) {
      Map<String, Long> written = new java.util.HashMap<>();
      if (snapshots == null || !models.has(Arm.PERFORMER)) {
        return written;
      }
      ActiveModel model = model(Arm.PERFORMER);
      long now = clock.millis();
      for (String user : users) {
        CachedState entry = cache.getIfPresent(new StateKey(user, Arm.PERFORMER));
        if (entry == null) {
          continue;
        }
        byte[] bytes;
        long position;
        entry.lock().lock();
        try {
          long unsaved = entry.historyPosition() - entry.snapshotPosition();
          boolean due = unsaved >= settings.snapshotEveryEvents()
              || (unsaved > 0 && now - entry.snapshotMillis() >= settings.snapshotInterval()
                  .toMillis())
              || (force && unsaved > 0);
          if (!due || entry.partial()) {
            continue;
          }
          bytes = entry.state().toBytes();
          position = entry.historyPosition();
        } finally {
          entry.lock().unlock();
        }
        // written without the entry's lock: a store write can wait on Kafka (its changelog's
        // producer, the cluster away), and requests read the entry meanwhile. The bytes are the
        // state at `position`, whatever the entry has folded since.
        snapshots.save(user, model.version(), new SnapshotStore.Snapshot(position, bytes));
        entry.lock().lock();
        try {
          if (position > entry.snapshotPosition()) {
            entry.snapshotted(position, now);
          }
        } finally {
          entry.lock().unlock();
        }
        snapshotCount.increment();
        snapshotBytes.increment(bytes.length + 8);
        written.put(user, position);
      }
      return written;
    }
  }
}
