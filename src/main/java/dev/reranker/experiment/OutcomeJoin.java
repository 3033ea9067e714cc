package dev.reranker.experiment;

import dev.reranker.data.Interaction;
import dev.reranker.data.Topics;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * The online outcome join in Kafka Streams: each exposure waits in a changelogged store for the
 * same user's next interaction, on the task that owns the user's partition ({@code
 * rerank.exposures} and the interactions are both keyed by userId, with the same partition
 * count), and is then resolved into sufficient statistics per (experiment, arm). So the join
 * survives restarts and rebalances, and every instance's stores together hold every user.
 *
 * <p>The join reads the exposures topic and, from the ingestion (through the internal topic
 * {@value #INGESTED_TOPIC_NAME}, so the join is a sub-topology and a task of its own), the events
 * the engine <em>applied</em> (validated, deduplicated by event id, appended), never the raw
 * interactions: a record the ingestion refused (a timestamp in the year 2100, another user's id,
 * malformed) or dropped as a repeat resolves nothing and is only counted, per reason ({@value
 * Topics#IGNORED_INTERACTIONS_STORE}), so one client with a wrong clock or one hostile producer
 * cannot bias an experiment. The replay ({@link ReplayJoin}) applies the same acceptance.
 *
 * <h2>Design</h2>
 * <ul>
 *   <li>{@value Topics#PENDING_EXPOSURES_STORE}: key = user, served time, request id (so one
 *   user's exposures are one range, oldest first); value = the exposure's JSON.</li>
 *   <li>An interaction resolves every pending exposure of its user served at or before it, by
 *   the rule in {@link Resolution} (shared with the replay): rank = the item's position in the
 *   served list (0: not served). An exposure that reaches the horizon (default 24 h) unresolved
 *   is resolved as a miss (rank 0) by a wall-clock sweep: an exposure whose user did nothing is a
 *   failure of the ranking too, and excluding it would favour an arm that drives users away.</li>
 *   <li>{@value Topics#PENDING_BY_SERVED_TIME_STORE}: the same exposures keyed by served time
 *   first (empty values), so the sweep reads only those past the horizon.</li>
 *   <li>{@value Topics#PENDING_PER_USER_STORE}: per user with pending exposures, how many and a
 *   served time before which none is pending, so an applied event reads its user's range only
 *   when something in it can resolve, and from there (RocksDB's deletions are tombstones that a
 *   range read steps over one by one until compaction).</li>
 *   <li>{@value Topics#USER_OUTCOMES_STORE}: per (experiment, arm, user) the user's {@link
 *   UserTotals}: the base from which each outcome updates the user-level sums by deltas ({@link
 *   ArmAggregate#resolved}).</li>
 *   <li>{@value Topics#ARM_AGGREGATES_STORE}: per (experiment, arm) an {@link ArmAggregate}:
 *   constant size whatever the experiment's length; an arm's aggregate on one task covers the
 *   users of that task's partition, and the report adds them up over all tasks.</li>
 *   <li>{@value Topics#RECENT_INTERACTIONS_STORE}: per user the last {@value #RECENT} interactions
 *   (time, item). An exposure can reach the join after the interaction it led to (two topics,
 *   fetched independently); it is then resolved at once against the first of those at or after
 *   its served time, so the outcome is defined by event time — the user's first interaction at or
 *   after the exposure — not by the order the records happened to be processed in, and a replay of
 *   the topics ({@link ReplayJoin}) gets the same answer. (Exact when a user's interactions carry
 *   ascending times and an exposure arrives before {@value #RECENT} later interactions of its
 *   user; a user's records of both inputs are in the same join task, so that lag is a fetch's
 *   and the ingestion's commit interval.)</li>
 *   <li>{@value Topics#ARM_SERIES_STORE}: at each sweep, each changed aggregate is also written
 *   under the current time bucket (default one hour): the aggregate as of that bucket, so the
 *   report can chart the estimates and their intervals over time. A bucket a task did not write
 *   (nothing changed) carries its previous value forward. One record per (experiment, arm, task,
 *   bucket): the size grows with the experiment's hours, never with its traffic.</li>
 * </ul>
 * <p>Every store's key and value layout is in {@link OutcomeStores}.
 *
 * <p>Each resolved exposure is also emitted as a {@link ResolvedOutcome} to the outcomes topic. A
 * user assigned to one arm stays in it (assignment is sticky), so a user's totals are per arm.
 * An exposure record that cannot be read, or whose key is not its user, is dropped and counted
 * ({@code onDropped}); the exposures topic is written by the service only.
 */
public final class OutcomeJoin {
  private OutcomeJoin() {}

  /** Unresolved exposures older than this count as misses; 24 h unless configured. */
  public static final Duration DEFAULT_HORIZON = Duration.ofHours(24);
  /** Interactions remembered per user for exposures that arrive after them. */
  static final int RECENT = 16;

  /**
   * @param exposuresTopic read here: exposures, key = userId, co-partitioned with the interactions
   * @param outcomesTopic written here: resolved outcomes; null: not emitted
   * @param horizon an exposure unresolved this long is a miss
   * @param sweepEvery how often (wall clock) exposures past the horizon are resolved and the
   *     series written
   * @param seriesBucket the series' time bucket
   */
  public record Settings(String exposuresTopic, String outcomesTopic, Duration horizon,
      Duration sweepEvery, Duration seriesBucket) {
    public Settings {
      if (horizon.isNegative() || horizon.isZero() || sweepEvery.isNegative()
          || sweepEvery.isZero() || seriesBucket.toMillis() < 1) {
        throw new IllegalArgumentException("horizon, sweep interval and series bucket must be "
            + "positive, got " + horizon + ", " + sweepEvery + ", " + seriesBucket);
      }
    }

    public static Settings defaults() {
      return new Settings(Topics.EXPOSURES, Topics.OUTCOMES, DEFAULT_HORIZON,
          Duration.ofMinutes(1), Duration.ofHours(1));
    }
  }

  /**
   * Adds the join to a topology.
   *
   * @param accepted the events the ingestion applied (validated, no repeats), key = userId, in
   *     partition order (handed to the join's own task through {@value #INGESTED_TOPIC_NAME},
   *     a user's in the order applied): the join resolves on these and nothing
   *     else, so an event the engine refused (a clock in the year 2100, another user's id, a
   *     repeated event id) cannot move an experiment's numbers
   * @param ignored for every interactions record the ingestion did not apply, why (counted per
   *     reason, {@link #ignored})
   * @param onDropped told why, for every exposure record dropped
   */
  public static void addTo(StreamsBuilder builder, KStream<String, Interaction> accepted,
      KStream<String, String> ignored, Settings settings, Clock clock,
      Consumer<String> onDropped) {
    builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(
        Topics.PENDING_EXPOSURES_STORE), Serdes.Bytes(), Serdes.ByteArray()));
    builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(
        Topics.PENDING_BY_SERVED_TIME_STORE), Serdes.Bytes(), Serdes.ByteArray()));
    // read for every applied event, rewritten for every exposure: the record cache keeps the
    // active users' entries in memory and coalesces their rewrites per commit
    builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(
        Topics.PENDING_PER_USER_STORE), Serdes.Bytes(), Serdes.ByteArray()).withCachingEnabled());
    // read and rewritten for every outcome of the user: cached like the per-user counts
    builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(
        Topics.USER_OUTCOMES_STORE), Serdes.Bytes(), Serdes.ByteArray()).withCachingEnabled());
    builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(
        Topics.RECENT_INTERACTIONS_STORE), Serdes.Bytes(), Serdes.ByteArray())
        .withCachingEnabled());
    // the record cache coalesces an aggregate's rewrites (one per outcome) to one changelog
    // record per commit; Kafka Streams flushes it before committing
    builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(
        Topics.ARM_AGGREGATES_STORE), Serdes.Bytes(), Serdes.ByteArray()).withCachingEnabled());
    builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(
        Topics.ARM_SERIES_STORE), Serdes.Bytes(), Serdes.ByteArray()));
    builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(
        Topics.IGNORED_INTERACTIONS_STORE), Serdes.Bytes(), Serdes.ByteArray())
        .withCachingEnabled());
    // The ingestion's output reaches the join through an internal topic, so the join is a
    // sub-topology of its own: its tasks, not the ingestion's, hold a backlog of exposures. In
    // one task with the ingestion (as it was until 2026-12-08), Kafka Streams processed the two in
    // timestamp order, and once the join fell behind the exposures (≈ 4,400 a second on two
    // cores) every new event waited behind that backlog: seconds between an event's produce and
    // a rerank that counts it. Keyed by user with Kafka's default partitioner, as the exposures
    // are, so a user's events and exposures meet in the same join task whatever partitioner the
    // interactions' producers used. Written in the ingestion's transaction (exactly_once_v2):
    // the join sees an event once the ingestion's commit that applied it is.
    KStream<String, Input> ingested = accepted.<Input>mapValues(Interacted::new)
        .merge(ignored.map((key, reason) -> KeyValue.pair(key == null ? "" : key,
            (Input) new Ignored(reason))))
        .repartition(Repartitioned.<String, Input>as(INGESTED_TOPIC_NAME)
            .withKeySerde(Serdes.String()).withValueSerde(JOIN_INPUT_SERDE));
    KStream<String, byte[]> exposures = builder.stream(settings.exposuresTopic(),
        Consumed.with(Serdes.String(), Serdes.ByteArray()));
    KStream<String, byte[]> outcomes = exposures.<Input>mapValues(Exposed::new)
        .merge(ingested)
        .process(() -> new JoinProcessor(settings, clock, onDropped),
            Topics.PENDING_EXPOSURES_STORE, Topics.PENDING_BY_SERVED_TIME_STORE,
            Topics.PENDING_PER_USER_STORE, Topics.USER_OUTCOMES_STORE,
            Topics.RECENT_INTERACTIONS_STORE,
            Topics.ARM_AGGREGATES_STORE, Topics.ARM_SERIES_STORE,
            Topics.IGNORED_INTERACTIONS_STORE);
    if (settings.outcomesTopic() != null) {
      outcomes.to(settings.outcomesTopic(), Produced.with(Serdes.String(), Serdes.ByteArray()));
    }
  }

  /**
   * The name of the internal topic that carries the ingestion's applied events and ignored
   * records to the join (Kafka Streams names it {@code <application-id>-}{@value}{@code
   * -repartition}; it creates the topic with the interactions' partition count and deletes what
   * the join has committed).
   */
  public static final String INGESTED_TOPIC_NAME = "experiment-join-input";

  private static final org.apache.kafka.common.serialization.Serde<Input> JOIN_INPUT_SERDE =
      Serdes.serdeFrom((topic, input) -> input == null ? null : OutcomeStores.joinInput(input),
          (topic, bytes) -> bytes == null ? null : OutcomeStores.joinInput(bytes));

  /** What the join's processor reads: the three inputs, merged in the join's task. */
  sealed interface Input {}

  /** An exposure record's value, as read from the exposures topic. */
  record Exposed(byte[] json) implements Input {}

  /** An event the ingestion applied. */
  record Interacted(Interaction event) implements Input {}

  /** An interactions record the ingestion did not apply, and why. */
  record Ignored(String reason) implements Input {}

  /**
   * Per reason, the interactions records a store's tasks did not apply (and the join so did not
   * see): the rejections' reason codes and {@code duplicate_event_id}.
   */
  public static Map<String, Long> ignored(ReadOnlyKeyValueStore<Bytes, byte[]> store) {
    Map<String, Long> out = new TreeMap<>();
    try (KeyValueIterator<Bytes, byte[]> it = store.all()) {
      while (it.hasNext()) {
        KeyValue<Bytes, byte[]> kv = it.next();
        out.merge(OutcomeStores.reason(kv.key), OutcomeStores.count(kv.value), Long::sum);
      }
    }
    return out;
  }

  /** The arm aggregates held in one store (a task's, or every local task's). */
  public static Map<Key, ArmAggregate> aggregates(ReadOnlyKeyValueStore<Bytes, byte[]> store) {
    Map<Key, ArmAggregate> out = new HashMap<>();
    try (KeyValueIterator<Bytes, byte[]> it = store.all()) {
      while (it.hasNext()) {
        KeyValue<Bytes, byte[]> kv = it.next();
        out.merge(OutcomeStores.aggregateKey(kv.key.get()), OutcomeStores.aggregate(kv.value),
            ArmAggregate::merge);
      }
    }
    return out;
  }

  /** One experiment's aggregates in one store, per arm (its keys begin with the id and a 0). */
  public static Map<ArmChoice, ArmAggregate> aggregates(
      ReadOnlyKeyValueStore<Bytes, byte[]> store, String experiment) {
    Map<ArmChoice, ArmAggregate> out = new EnumMap<>(ArmChoice.class);
    try (KeyValueIterator<Bytes, byte[]> it = store.prefixScan(
        OutcomeStores.experimentPrefix(experiment), Serdes.Bytes().serializer())) {
      while (it.hasNext()) {
        KeyValue<Bytes, byte[]> kv = it.next();
        out.put(OutcomeStores.aggregateKey(kv.key.get()).arm(),
            OutcomeStores.aggregate(kv.value));
      }
    }
    return out;
  }

  /**
   * One experiment's series in one store: per arm, bucket start (epoch ms) → the aggregate as of
   * that bucket.
   */
  public static Map<ArmChoice, NavigableMap<Long, ArmAggregate>> series(
      ReadOnlyKeyValueStore<Bytes, byte[]> store, String experiment) {
    Map<ArmChoice, NavigableMap<Long, ArmAggregate>> out = new EnumMap<>(ArmChoice.class);
    try (KeyValueIterator<Bytes, byte[]> it = store.prefixScan(
        OutcomeStores.experimentPrefix(experiment), Serdes.Bytes().serializer())) {
      while (it.hasNext()) {
        KeyValue<Bytes, byte[]> kv = it.next();
        byte[] k = kv.key.get();
        out.computeIfAbsent(OutcomeStores.seriesAggregateKey(k).arm(), x -> new TreeMap<>())
            .put(OutcomeStores.seriesBucket(k), OutcomeStores.aggregate(kv.value));
      }
    }
    return out;
  }

  /** An aggregate's key. */
  public record Key(String experiment, ArmChoice arm) {}

  /** An aggregate's bytes as the stores hold them (to move a task's share over HTTP). */
  public static byte[] encode(ArmAggregate a) {
    return OutcomeStores.aggregate(a);
  }

  /** @throws IllegalArgumentException when the bytes are no aggregate */
  public static ArmAggregate decode(byte[] bytes) {
    return OutcomeStores.aggregate(bytes);
  }

  static final class JoinProcessor implements Processor<String, Input, String, byte[]> {
    /** The served-time index's values: the key says it all (null would delete). */
    private static final byte[] NOTHING = new byte[0];
    private final Settings settings;
    private final long horizonMs;
    private final Clock clock;
    private final Consumer<String> onDropped;
    private ProcessorContext<String, byte[]> context;
    private KeyValueStore<Bytes, byte[]> pending;
    private KeyValueStore<Bytes, byte[]> due;
    /** The served-time index covers every pending exposure (its marker is written). */
    private boolean indexed;
    /** No exposure was pending when the task started: the index needs no building. */
    private boolean startedEmpty;
    /**
     * Per user with pending exposures, how many and a lower bound on their served times
     * ({@value Topics#PENDING_PER_USER_STORE}); complete once its marker is written.
     */
    private KeyValueStore<Bytes, byte[]> perUser;
    private boolean perUserComplete;
    private KeyValueStore<Bytes, byte[]> userOutcomes;
    private KeyValueStore<Bytes, byte[]> recent;
    private KeyValueStore<Bytes, byte[]> aggregates;
    private KeyValueStore<Bytes, byte[]> series;
    private KeyValueStore<Bytes, byte[]> ignored;
    /**
     * The task's aggregates, decoded: the store stays the truth (every change is written through),
     * this saves decoding one per outcome. A task's processor is its store's only writer, and a
     * restarted or moved task gets a new processor that reloads from the store.
     */
    private final Map<Key, ArmAggregate> live = new HashMap<>();
    /** Aggregates changed since the series was last written. */
    private final Set<Key> changed = new HashSet<>();
    /**
     * A served time at or before which the served-time index holds no key: the sweep reads from
     * here (for the same reason: the index's resolved entries are tombstones at its front).
     * Lowered whenever an exposure older than it is indexed.
     */
    private long sweepFrom = Long.MIN_VALUE;

    JoinProcessor(Settings settings, Clock clock, Consumer<String> onDropped) {
      this.settings = settings;
      this.horizonMs = settings.horizon().toMillis();
      this.clock = clock;
      this.onDropped = onDropped;
    }

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
      this.context = context;
      pending = context.getStateStore(Topics.PENDING_EXPOSURES_STORE);
      due = context.getStateStore(Topics.PENDING_BY_SERVED_TIME_STORE);
      indexed = due.get(OutcomeStores.DUE_INDEX_COMPLETE) != null;
      perUser = context.getStateStore(Topics.PENDING_PER_USER_STORE);
      perUserComplete = perUser.get(OutcomeStores.PER_USER_COMPLETE) != null;
      try (KeyValueIterator<Bytes, byte[]> it = pending.all()) {
        startedEmpty = !it.hasNext();
      }
      userOutcomes = context.getStateStore(Topics.USER_OUTCOMES_STORE);
      recent = context.getStateStore(Topics.RECENT_INTERACTIONS_STORE);
      aggregates = context.getStateStore(Topics.ARM_AGGREGATES_STORE);
      series = context.getStateStore(Topics.ARM_SERIES_STORE);
      ignored = context.getStateStore(Topics.IGNORED_INTERACTIONS_STORE);
      try (KeyValueIterator<Bytes, byte[]> it = aggregates.all()) {
        while (it.hasNext()) {
          KeyValue<Bytes, byte[]> kv = it.next();
          live.put(OutcomeStores.aggregateKey(kv.key.get()), OutcomeStores.aggregate(kv.value));
        }
      }
      context.schedule(settings.sweepEvery(), PunctuationType.WALL_CLOCK_TIME, t -> sweep());
    }

    @Override
    public void process(Record<String, Input> record) {
      switch (record.value()) {
        case Exposed(byte[] v) -> {
          if (v == null || record.key() == null) {
            onDropped.accept("exposure record without key or value");
            return;
          }
          exposed(record.key(), v);
        }
        case Interacted(Interaction i) -> {
          resolveUpTo(i.userId(), i.timestamp(), i.itemId());
          remember(i);
        }
        case Ignored(String reason) -> {
          Bytes k = OutcomeStores.reasonKey(reason);
          ignored.put(k, OutcomeStores.count(OutcomeStores.count(ignored.get(k)) + 1));
        }
        case null -> { }
      }
    }

    private void exposed(String key, byte[] json) {
      Exposure e;
      try {
        e = OutcomeStores.exposure(json);
      } catch (RuntimeException ex) {
        onDropped.accept("unreadable exposure: " + ex.getMessage());
        return;
      }
      if (!joinable(e, key)) {
        onDropped.accept("exposure without user (or keyed by another), arm, experiment, served "
            + "list or k");
        return;
      }
      if (e.error()) { // a failed request: nothing was served, nothing to resolve
        update(new Key(e.experiment(), e.arm()), a -> a.exposed(e));
        return;
      }
      Bytes pendingKey = OutcomeStores.pendingKey(e.userId(), e.timestamp(), e.requestId());
      if (pending.get(pendingKey) != null) {
        return; // the same exposure twice (a producer retry): counted once
      }
      update(new Key(e.experiment(), e.arm()), a -> a.exposed(e));
      OutcomeStores.Recent later = firstAtOrAfter(e.userId(), e.timestamp());
      if (later != null) { // the interaction it led to came first: resolve by event time
        resolve(e, Resolution.byInteraction(e, later.item(), later.time(), horizonMs));
        return;
      }
      if (startedEmpty) { // new stores: complete from their first entry on
        if (!indexed) {
          due.put(OutcomeStores.DUE_INDEX_COMPLETE, NOTHING);
          indexed = true;
        }
        if (!perUserComplete) {
          perUser.put(OutcomeStores.PER_USER_COMPLETE, NOTHING);
          perUserComplete = true;
        }
      }
      pending.put(pendingKey, json);
      due.put(OutcomeStores.dueKey(pendingKey), NOTHING);
      if (perUserComplete) {
        Bytes u = OutcomeStores.userKey(e.userId());
        OutcomeStores.UserPending p = OutcomeStores.userPending(perUser.get(u));
        perUser.put(u, OutcomeStores.userPending(p.plusOne(e.timestamp())));
      }
      sweepFrom = Math.min(sweepFrom, e.timestamp());
    }

    /** Resolves the user's pending exposures served at or before {@code at} against the item. */
    private void resolveUpTo(String user, long at, String itemId) {
      // one point read answers the common cases (nothing pending; nothing served by then) and
      // bounds the range: a range read from the user's first key steps over every tombstone
      // RocksDB keeps for the user's resolved exposures, and past the user's last key over the
      // next users' until it meets a live key — measured under rerank load (every answer is an
      // exposure, every interaction resolves its user's), the stream thread spent 55-84 % of its
      // time in those seeks, and the ingestion's events, on the same thread, waited seconds
      Bytes u = OutcomeStores.userKey(user);
      OutcomeStores.UserPending before = null;
      long floor = Long.MIN_VALUE;
      if (perUserComplete) {
        before = OutcomeStores.userPending(perUser.get(u));
        if (before.count() == 0 || before.floor() > at) {
          return;
        }
        floor = before.floor();
      }
      List<Bytes> done = new ArrayList<>();
      try (KeyValueIterator<Bytes, byte[]> it = pending.range(
          OutcomeStores.pendingKey(user, floor, ""),
          OutcomeStores.pendingKey(user, at, "\uffff"))) {
        while (it.hasNext()) {
          KeyValue<Bytes, byte[]> kv = it.next();
          // one past the horizon before its sweep resolves as a miss
          Exposure e = OutcomeStores.exposure(kv.value);
          resolve(e, Resolution.byInteraction(e, itemId, at, horizonMs));
          done.add(kv.key);
        }
      }
      for (Bytes k : done) {
        // put(k, null) deletes without delete()'s read of the old value (a RocksDB get each)
        pending.put(k, null);
        due.put(OutcomeStores.dueKey(k), null);
      }
      if (perUserComplete) { // every exposure still pending was served after `at`
        putUserPending(u, before.minus(done.size(), at == Long.MAX_VALUE ? at : at + 1));
      }
    }

    /** A user's pending count, or no entry when nothing of the user's is pending. */
    private void putUserPending(Bytes userKey, OutcomeStores.UserPending p) {
      perUser.put(userKey, p.count() == 0 ? null : OutcomeStores.userPending(p));
    }

    /**
     * Indexes every pending exposure by served time, once: pending exposures written before the
     * index existed (an upgraded deployment) are then swept like the rest.
     */
    private void indexPending() {
      try (KeyValueIterator<Bytes, byte[]> it = pending.all()) {
        while (it.hasNext()) {
          due.put(OutcomeStores.dueKey(it.next().key), NOTHING);
        }
      }
      due.put(OutcomeStores.DUE_INDEX_COMPLETE, NOTHING);
      indexed = true;
      sweepFrom = Long.MIN_VALUE;
    }

    /**
     * Counts every pending exposure per user, once: a store written before the per-user counts
     * existed (an upgraded deployment).
     */
    private void countPending() {
      Map<String, OutcomeStores.UserPending> counts = new HashMap<>();
      try (KeyValueIterator<Bytes, byte[]> it = pending.all()) {
        while (it.hasNext()) {
          Bytes k = it.next().key;
          counts.merge(OutcomeStores.pendingUser(k), OutcomeStores.UserPending.NONE
              .plusOne(OutcomeStores.servedTime(k)), OutcomeStores.UserPending::plus);
        }
      }
      counts.forEach((user, p) -> perUser.put(OutcomeStores.userKey(user),
          OutcomeStores.userPending(p)));
      perUser.put(OutcomeStores.PER_USER_COMPLETE, NOTHING);
      perUserComplete = true;
    }

    /** The user's earliest remembered interaction at or after {@code time}; null if none. */
    private OutcomeStores.Recent firstAtOrAfter(String user, long time) {
      OutcomeStores.Recent best = null;
      for (OutcomeStores.Recent r : OutcomeStores.recent(recent.get(OutcomeStores.userKey(user)))) {
        if (r.time() >= time && (best == null || r.time() < best.time())) {
          best = r;
        }
      }
      return best;
    }

    private void remember(Interaction i) {
      Bytes key = OutcomeStores.userKey(i.userId());
      List<OutcomeStores.Recent> list = new ArrayList<>(OutcomeStores.recent(recent.get(key)));
      list.add(new OutcomeStores.Recent(i.timestamp(), i.itemId()));
      if (list.size() > RECENT) {
        list.remove(0);
      }
      recent.put(key, OutcomeStores.recent(list));
    }

    /**
     * Resolves exposures past the horizon as misses, then writes the changed series points. The
     * served-time index is read from its oldest entry up to the first that is not yet due, so a
     * sweep costs the expired exposures and not the whole horizon of pending ones (with a 24 h
     * horizon that is a day of traffic; read whole, every minute, on the thread that also ingests,
     * it cost 0.7 µs per pending exposure: 140 ms per 200,000).
     */
    void sweep() {
      long now = clock.millis();
      if (!indexed) {
        indexPending();
      }
      if (!perUserComplete) {
        countPending();
      }
      List<Bytes> expired = new ArrayList<>();
      long next = Long.MAX_VALUE; // the earliest served time left in the index
      try (KeyValueIterator<Bytes, byte[]> it = due.range(
          sweepFrom == Long.MIN_VALUE ? null : OutcomeStores.dueFrom(sweepFrom), null)) {
        while (it.hasNext()) {
          Bytes k = it.next().key;
          if (!OutcomeStores.isDueKey(k)) {
            continue;
          }
          if (!Resolution.pastHorizon(OutcomeStores.dueTime(k), now, horizonMs)) {
            next = OutcomeStores.dueTime(k);
            break;
          }
          expired.add(k);
        }
      }
      sweepFrom = next; // exposed() lowers it for anything indexed later
      for (Bytes k : expired) {
        Bytes pendingKey = OutcomeStores.duePendingKey(k);
        byte[] json = pending.get(pendingKey);
        if (json != null) {
          Exposure e = OutcomeStores.exposure(json);
          resolve(e, Resolution.miss(e, now));
          pending.put(pendingKey, null);
          Bytes u = OutcomeStores.userKey(OutcomeStores.pendingUser(pendingKey));
          putUserPending(u, OutcomeStores.userPending(perUser.get(u)).minus(1, Long.MIN_VALUE));
        }
        due.put(k, null);
      }
      long bucketMs = settings.seriesBucket().toMillis();
      long bucket = Math.floorDiv(now, bucketMs) * bucketMs;
      for (Key k : changed) {
        series.put(Bytes.wrap(OutcomeStores.seriesKey(k, bucket)),
            OutcomeStores.aggregate(live.get(k)));
      }
      changed.clear();
    }

    private void resolve(Exposure e, Resolution r) {
      Bytes userKey = OutcomeStores.userKey(e.experiment(), e.arm(), e.userId());
      UserTotals before = OutcomeStores.totals(userOutcomes.get(userKey));
      update(new Key(e.experiment(), e.arm()), a -> a.resolved(e.arm(), before, r));
      userOutcomes.put(userKey, OutcomeStores.totals(before.plus(r), e.arm()));
      if (settings.outcomesTopic() != null) {
        // stamped with the wall clock, not the event's time (that is in the record): a broker
        // refuses records stamped far from its clock (log.message.timestamp.*.max.ms), and a
        // refused record stops the stream thread
        context.forward(new Record<>(e.userId(), OutcomeStores.JSON.writeValueAsBytes(
            ResolvedOutcome.of(e, r)), clock.millis()));
      }
    }

    private void update(Key key, Consumer<ArmAggregate> change) {
      ArmAggregate a = live.computeIfAbsent(key, x -> new ArmAggregate());
      change.accept(a);
      aggregates.put(Bytes.wrap(OutcomeStores.aggregateKey(key)), OutcomeStores.aggregate(a));
      changed.add(key);
    }
  }

  /**
   * Whether the join can use an exposure read under {@code key}: keyed by its user (the key
   * decides the partition), with an arm, an experiment, a served list and k ≥ 1. The live join and
   * the replay apply this one rule.
   */
  static boolean joinable(Exposure e, String key) {
    return key != null && e.userId() != null && e.userId().equals(key) && e.arm() != null
        && e.experiment() != null && e.served() != null && e.k() >= 1;
  }
}
