package dev.reranker.ingest;

import dev.reranker.data.Interaction;
import dev.reranker.data.Topics;
import dev.reranker.state.UserStates;
import java.time.Clock;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The ingestion topology, built in one method that the service (through Spring Kafka's
 * {@code StreamsBuilderFactoryBean}), tests ({@code TopologyTestDriver}) and the benchmark share:
 * <pre>
 *   interactions (key userId, JSON value)
 *     → IngestProcessor [user-history (with the event ids it holds), state-snapshots]
 *       → interactions.dlq (rejected records, original bytes (bounded) + reason headers)
 *       → accepted events, ignored records' reasons ({@link Ingested}: the outcome join's input)
 * </pre>
 * Both stores are RocksDB with changelog topics; with {@code exactly_once_v2} the stores, the
 * consumed offsets and the DLQ records commit atomically. {@link #streamsProperties} gives the
 * Kafka Streams settings the topology relies on (its production error handler).
 */
public final class IngestTopology {
  private IngestTopology() {}

  /** {@link #build} without a listener for applied events. */
  public static Ingested build(StreamsBuilder builder, IngestSettings settings,
      UserStates states, IngestMetrics metrics, Clock clock) {
    return build(builder, settings, states, metrics, clock, e -> { });
  }

  /**
   * What the ingestion hands to the rest of the topology, in partition order: for a topic can be
   * a source only once, and the other parts must see what the engine accepted, not the raw
   * records. (The outcome join takes them through an internal topic into a task of its own, so
   * Kafka Streams does not order new events behind its backlog; the two still share the stream
   * thread.)
   *
   * @param accepted every applied event (validated, no repeat, appended), key = userId
   * @param ignored every record that was not applied, key = the record's key (may be null or
   *     another user's), value = why: a rejection's reason code ({@link Rejection.Code#wireName})
   *     or {@value #REPEAT} for a repeated event id
   */
  public record Ingested(KStream<String, Interaction> accepted, KStream<String, String> ignored) {}

  /** The reason an {@link Ingested#ignored} record carries for a repeated event id. */
  public static final String REPEAT = "duplicate_event_id";

  /**
   * @param onApplied called for every applied event, on the stream thread (popularity counts);
   *     must be quick and must not throw
   */
  public static Ingested build(StreamsBuilder builder, IngestSettings settings,
      UserStates states, IngestMetrics metrics, Clock clock,
      java.util.function.Consumer<Interaction> onApplied) {
    long cadence = states.settings().snapshotEveryEvents();
    if (cadence > settings.historyLimit() / 2) {
      // a snapshot is forced before an append drops an unsnapshotted event, but a cadence this
      // close to the retention leaves restores no margin
      throw new IllegalArgumentException("snapshot cadence (" + cadence + " events) must be at "
          + "most half the history retention (" + settings.historyLimit() + "), or restores "
          + "could miss events");
    }
    builder.addStateStore(historyStore());
    builder.addStateStore(snapshotStore());
    KStream<String, IngestProcessor.Output> out = builder.stream(settings.interactionsTopic(),
        Consumed.with(Serdes.String(), Serdes.ByteArray()))
        .process(() -> new IngestProcessor(settings, states, metrics, clock, onApplied),
            Topics.HISTORY_STORE, Topics.SNAPSHOT_STORE);
    // the record's headers (the dead letter's reasons) travel with it through these steps
    out.filter((k, v) -> v instanceof IngestProcessor.DeadLetter)
        .mapValues(v -> ((IngestProcessor.DeadLetter) v).value())
        .to(settings.dlqTopic(), Produced.with(Serdes.String(), Serdes.ByteArray()));
    KStream<String, Interaction> accepted = out
        .filter((k, v) -> v instanceof IngestProcessor.Applied)
        .mapValues(v -> ((IngestProcessor.Applied) v).event());
    KStream<String, String> ignored = out
        .filter((k, v) -> !(v instanceof IngestProcessor.Applied))
        .mapValues(v -> v instanceof IngestProcessor.DeadLetter d ? d.code().wireName() : REPEAT);
    return new Ingested(accepted, ignored);
  }

  /**
   * The history store, with Kafka Streams' record cache in front of RocksDB: a user's extent record
   * is rewritten on every event, and the cache coalesces those rewrites to one changelog record per
   * commit (measured: 83 changelog bytes per event with the cache, 113 without, for 9% more
   * throughput without it).
   */
  static StoreBuilder<KeyValueStore<Bytes, byte[]>> historyStore() {
    return Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(Topics.HISTORY_STORE),
        Serdes.Bytes(), Serdes.ByteArray()).withCachingEnabled();
  }

  /**
   * Kafka Streams settings the topology needs whoever runs it: a production exception handler that
   * counts and skips a dead-letter record the producer refuses instead of stopping the stream
   * thread ({@link DeadLetterProductionHandler}); and the processing exception handler enabled for
   * global processing as well, the default Kafka announces for a later release (4.4 warns at
   * every start without it; the topology has no global store, so nothing else changes).
   */
  public static java.util.Map<String, Object> streamsProperties(IngestSettings settings,
      IngestMetrics metrics) {
    return java.util.Map.of(
        org.apache.kafka.streams.StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG,
        DeadLetterProductionHandler.class.getName(),
        DeadLetterProductionHandler.DLQ_TOPIC_CONFIG, settings.dlqTopic(),
        DeadLetterProductionHandler.METRICS_CONFIG, metrics,
        org.apache.kafka.streams.StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG,
        true);
  }

  static StoreBuilder<KeyValueStore<Bytes, byte[]>> snapshotStore() {
    return Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(
        Topics.SNAPSHOT_STORE), Serdes.Bytes(), Serdes.ByteArray()).withCachingEnabled();
  }
}
