package dev.reranker.serving;

import dev.reranker.ingest.HistoryStore;
import dev.reranker.ingest.IngestTopics;
import dev.reranker.ingest.KafkaSnapshots;
import dev.reranker.model.Arm;
import dev.reranker.state.CachedState;
import dev.reranker.state.UserStates;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.QueryableStoreTypes;

/**
 * Caught-up states for requests: the ingestion's history and snapshot stores read through
 * interactive queries (every local task, standbys included), folded into the shared state cache.
 */
public final class StateAccess implements Reranker.StateSource {

  private final Supplier<KafkaStreams> streams;
  private final UserStates states;

  public StateAccess(Supplier<KafkaStreams> streams, UserStates states) {
    this.streams = streams;
    this.states = states;
  }

  @Override
  public CachedState current(String userId, Arm arm) {
    return read(session -> session.current(userId, arm));
  }

  @Override
  public UserStates.Quick currentIfCheap(String userId, Arm arm) {
    return read(session -> session.currentIfCheap(userId, arm, MAX_PENDING_ON_CALLER));
  }

  /** Pending performer events a request folds on its own thread (≈ 15 µs each). */
  static final int MAX_PENDING_ON_CALLER = 8;

  /**
   * Runs a state operation over the local stores; stores that stop being readable meanwhile (a
   * rebalance) make it {@link Reranker.StateUnavailableException}, like stores that are not there.
   */
  private <T> T read(Function<UserStates.Session, T> operation) {
    KafkaStreams ks = streams.get();
    if (ks == null || !ks.state().isRunningOrRebalancing()) {
      throw new Reranker.StateUnavailableException("Kafka Streams is not running", null);
    }
    try {
      HistoryStore history = HistoryStore.readOnly(ks.store(StoreQueryParameters.fromNameAndType(
          IngestTopics.HISTORY_STORE, QueryableStoreTypes.<org.apache.kafka.common.utils.Bytes,
              byte[]>keyValueStore()).enableStaleStores()));
      KafkaSnapshots snapshots = KafkaSnapshots.readOnly(ks.store(
          StoreQueryParameters.fromNameAndType(IngestTopics.SNAPSHOT_STORE,
              QueryableStoreTypes.<org.apache.kafka.common.utils.Bytes, byte[]>keyValueStore())
              .enableStaleStores()));
      return operation.apply(states.session(history, snapshots));
    } catch (InvalidStateStoreException e) {
      throw new Reranker.StateUnavailableException("state stores not available: "
          + e.getMessage(), e);
    }
  }

  /** For the state endpoint: current, or null when unavailable. */
  public CachedState lookup(String userId, Arm arm) {
    try {
      return states.models().containsKey(arm) ? current(userId, arm) : null;
    } catch (Reranker.StateUnavailableException e) {
      return null;
    }
  }
}
