package dev.reranker.experiment;

import dev.reranker.data.Interaction;
import dev.reranker.data.InteractionJson;
import dev.reranker.data.InvalidEventException;
import dev.reranker.data.Topics;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.Stores;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * The online outcome join in Kafka Streams: each exposure waits in a changelogged store for the
 * same user's next interaction, on the task that owns the user's partition ({@code
 * rerank.exposures} and the interactions are both keyed by userId, with the same partition
 * count), and is then resolved into sufficient statistics per (experiment, arm). So the join
 * survives restarts and rebalances, and every instance's stores together hold every user.
 *
 * <h2>Design</h2>
 * <ul>
 *   <li>{@value Topics#PENDING_EXPOSURES_STORE}: key = user, served time, request id (so one
 *   user's exposures are one range, oldest first); value = the exposure's JSON.</li>
 *   <li>An interaction resolves every pending exposure of its user served at or before it: rank
 *   = the item's position in the served list (0: not served). An exposure that reaches the
 *   horizon (default 24 h) unresolved is resolved as a miss (rank 0) by a wall-clock sweep: an
 *   exposure whose user did nothing is a failure of the ranking too, and excluding it would
 *   favour an arm that drives users away.</li>
 *   <li>{@value Topics#USER_OUTCOMES_STORE}: per (experiment, arm, user) the user's totals (hits,
 *   NDCG, reciprocal rank, resolved exposures): the base from which each outcome updates the
 *   user-level sums by deltas ({@link dev.reranker.experiment.stats.UserMoments#add}).</li>
 *   <li>{@value Topics#ARM_AGGREGATES_STORE}: per (experiment, arm) an {@link ArmAggregate}:
 *   constant size whatever the experiment's length; an arm's aggregate on one task covers the
 *   users of that task's partition, and the report adds them up over all tasks.</li>
 * </ul>
 * A user assigned to one arm stays in it (assignment is sticky), so a user's totals are per arm.
 */
public final class OutcomeJoin {
  private OutcomeJoin() {}

  static final ObjectMapper JSON = JsonMapper.builder()
      .disable(tools.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();
  /** Unresolved exposures older than this count as misses; 24 h unless configured. */
  public static final Duration DEFAULT_HORIZON = Duration.ofHours(24);

  /**
   * Adds the join to a topology: {@code exposuresTopic} is read here; {@code interactions} is
   * the stream of the user's (accepted) interactions, keyed by userId, JSON values.
   *
   * @param sweepEvery how often (wall clock) exposures past the horizon are resolved as misses
   */
  public static void addTo(StreamsBuilder builder, KStream<String, byte[]> interactions,
      String exposuresTopic, Duration horizon, Duration sweepEvery, Clock clock) {
    builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(
        Topics.PENDING_EXPOSURES_STORE), Serdes.Bytes(), Serdes.ByteArray()));
    builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(
        Topics.USER_OUTCOMES_STORE), Serdes.Bytes(), Serdes.ByteArray()));
    // the record cache coalesces an aggregate's rewrites (one per outcome) to one changelog
    // record per commit; Kafka Streams flushes it before committing
    builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(
        Topics.ARM_AGGREGATES_STORE), Serdes.Bytes(), Serdes.ByteArray()).withCachingEnabled());
    KStream<String, byte[]> exposures = builder.stream(exposuresTopic,
        Consumed.with(Serdes.String(), Serdes.ByteArray()));
    exposures.mapValues(v -> tag('E', v)).merge(interactions.mapValues(v -> tag('I', v)))
        .process(() -> new JoinProcessor(horizon, sweepEvery, clock),
            Topics.PENDING_EXPOSURES_STORE, Topics.USER_OUTCOMES_STORE,
            Topics.ARM_AGGREGATES_STORE);
  }

  private static byte[] tag(char kind, byte[] value) {
    byte[] out = new byte[(value == null ? 0 : value.length) + 1];
    out[0] = (byte) kind;
    if (value != null) {
      System.arraycopy(value, 0, out, 1, value.length);
    }
    return out;
  }

  /** The arm aggregates held in one store (a task's, or every local task's). */
  public static Map<Key, ArmAggregate> aggregates(ReadOnlyKeyValueStore<Bytes, byte[]> store) {
    Map<Key, ArmAggregate> out = new HashMap<>();
    try (KeyValueIterator<Bytes, byte[]> it = store.all()) {
      while (it.hasNext()) {
        KeyValue<Bytes, byte[]> kv = it.next();
        out.merge(Key.fromBytes(kv.key.get()), ArmAggregate.fromBytes(kv.value),
            ArmAggregate::merge);
      }
    }
    return out;
  }

  /** An aggregate's key. */
  public record Key(String experiment, ArmChoice arm) {
    byte[] toBytes() {
      return (experiment + '\u0000' + arm.wireName()).getBytes(StandardCharsets.UTF_8);
    }

    static Key fromBytes(byte[] b) {
      String s = new String(b, StandardCharsets.UTF_8);
      int z = s.indexOf('\u0000');
      return new Key(s.substring(0, z), ArmChoice.parse(s.substring(z + 1)));
    }
  }

  static final class JoinProcessor implements Processor<String, byte[], Void, Void> {
    private final Duration horizon;
    private final Duration sweepEvery;
    private final Clock clock;
    private KeyValueStore<Bytes, byte[]> pending;
    private KeyValueStore<Bytes, byte[]> userOutcomes;
    private KeyValueStore<Bytes, byte[]> aggregates;
    /**
     * The task's aggregates, decoded: the store stays the truth (every change is written through),
     * this saves decoding one per outcome. A task's processor is its store's only writer, and a
     * restarted or moved task gets a new processor that reloads from the store.
     */
    private final Map<Key, ArmAggregate> live = new HashMap<>();

    JoinProcessor(Duration horizon, Duration sweepEvery, Clock clock) {
      this.horizon = horizon;
      this.sweepEvery = sweepEvery;
      this.clock = clock;
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
      pending = context.getStateStore(Topics.PENDING_EXPOSURES_STORE);
      userOutcomes = context.getStateStore(Topics.USER_OUTCOMES_STORE);
      aggregates = context.getStateStore(Topics.ARM_AGGREGATES_STORE);
      context.schedule(sweepEvery, PunctuationType.WALL_CLOCK_TIME, t -> expire());
    }

    @Override
    public void process(Record<String, byte[]> record) {
      byte[] v = record.value();
      if (v == null || v.length < 2 || record.key() == null) {
        return;
      }
      String json = new String(v, 1, v.length - 1, StandardCharsets.UTF_8);
      if (v[0] == 'E') {
        Exposure e;
        try {
          e = JSON.readValue(json, Exposure.class);
        } catch (RuntimeException ex) {
          return; // not ours to judge: the exposures topic is written by the service only
        }
        if (e.userId() == null || !e.userId().equals(record.key()) || e.arm() == null
            || e.experiment() == null || e.served() == null || e.k() < 1) {
          return;
        }
        pending.put(pendingKey(e.userId(), e.timestamp(), e.requestId()),
            json.getBytes(StandardCharsets.UTF_8));
        update(new Key(e.experiment(), e.arm()), a -> a.exposed(e));
      } else {
        Interaction i;
        try {
          i = InteractionJson.parse(json);
        } catch (InvalidEventException | RuntimeException ex) {
          return; // the ingestion dead-letters it
        }
        resolveUpTo(i.userId(), i.timestamp(), i.itemId());
      }
    }

    /** Resolves the user's pending exposures served at or before {@code at} against the item. */
    private void resolveUpTo(String user, long at, String itemId) {
      List<Bytes> done = new ArrayList<>();
      try (KeyValueIterator<Bytes, byte[]> it = pending.range(pendingKey(user, Long.MIN_VALUE,
          ""), pendingKey(user, at, "\uffff"))) {
        while (it.hasNext()) {
          KeyValue<Bytes, byte[]> kv = it.next();
          Exposure e = JSON.readValue(kv.value, Exposure.class);
          if (e.timestamp() < at - horizon.toMillis()) {
            resolve(e, 0, true); // past the horizon before its sweep: a miss, as defined
          } else {
            resolve(e, e.served().indexOf(itemId) + 1, false);
          }
          done.add(kv.key);
        }
      }
      done.forEach(pending::delete);
    }

    /** Resolves exposures past the horizon as misses. */
    void expire() {
      long cutoff = clock.millis() - horizon.toMillis();
      List<Bytes> done = new ArrayList<>();
      try (KeyValueIterator<Bytes, byte[]> it = pending.all()) {
        while (it.hasNext()) {
          KeyValue<Bytes, byte[]> kv = it.next();
          Exposure e = JSON.readValue(kv.value, Exposure.class);
          if (e.timestamp() < cutoff) {
            resolve(e, 0, true);
            done.add(kv.key);
          }
        }
      }
      done.forEach(pending::delete);
    }

    private void resolve(Exposure e, int rank, boolean expired) {
      OutcomeTracker.Outcome o = new OutcomeTracker.Outcome(e.arm(), rank, e.k(), e.timestamp());
      Key key = new Key(e.experiment(), e.arm());
      Bytes userKey = Bytes.wrap((e.experiment() + '\u0000' + e.arm().wireName() + '\u0000'
          + e.userId()).getBytes(StandardCharsets.UTF_8));
      byte[] before = userOutcomes.get(userKey);
      ByteBuffer b = before == null ? null : ByteBuffer.wrap(before);
      double h0 = b == null ? 0 : b.getDouble();
      double n0 = b == null ? 0 : b.getDouble();
      double r0 = b == null ? 0 : b.getDouble();
      double c0 = b == null ? 0 : b.getDouble();
      double h = o.hit() ? 1 : 0;
      double n = o.ndcg();
      double r = o.reciprocalRank();
      update(key, a -> {
        a.hits.add(h0, c0, h, 1);
        a.ndcg.add(n0, c0, n, 1);
        a.reciprocalRank.add(r0, c0, r, 1);
        a.resolvedAsMiss += expired ? 1 : 0;
      });
      userOutcomes.put(userKey, ByteBuffer.allocate(32).putDouble(h0 + h).putDouble(n0 + n)
          .putDouble(r0 + r).putDouble(c0 + 1).array());
    }

    private void update(Key key, java.util.function.Consumer<ArmAggregate> change) {
      Bytes k = Bytes.wrap(key.toBytes());
      ArmAggregate a = live.computeIfAbsent(key, x -> {
        byte[] v = aggregates.get(k);
        return v == null ? new ArmAggregate() : ArmAggregate.fromBytes(v);
      });
      change.accept(a);
      aggregates.put(k, a.toBytes());
    }
  }

  /** [u16 length][user][8-byte time, sign flipped: ordered][request id]. */
  static Bytes pendingKey(String user, long time, String requestId) {
    byte[] u = user.getBytes(StandardCharsets.UTF_8);
    byte[] r = requestId == null ? new byte[0] : requestId.getBytes(StandardCharsets.UTF_8);
    return Bytes.wrap(ByteBuffer.allocate(2 + u.length + 8 + r.length).putShort((short) u.length)
        .put(u).putLong(time ^ Long.MIN_VALUE).put(r).array());
  }
}
