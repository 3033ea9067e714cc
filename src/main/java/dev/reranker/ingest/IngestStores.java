package dev.reranker.ingest;

import dev.reranker.data.Topics;
import dev.reranker.state.StateReader;
import dev.reranker.state.StateUnavailableException;
import dev.reranker.state.UserStates;
import java.util.function.Supplier;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * The ingestion's stores as requests see them: the history and snapshot stores of every local
 * task (standbys included) read through interactive queries, folded into the shared state cache.
 * The only way out of this package to the stores; their formats stay here.
 */
public final class IngestStores {
  private IngestStores() {}

  /**
   * States for requests, read from {@code streams}' local stores. Stores that are not there, or
   * stop being readable during a read (a rebalance), make it {@link StateUnavailableException}.
   */
  public static StateReader stateReader(Supplier<KafkaStreams> streams, UserStates states) {
    return states.reader(() -> {
      KafkaStreams ks = streams.get();
      if (ks == null || !ks.state().isRunningOrRebalancing()) {
        throw new StateUnavailableException("Kafka Streams is not running", null);
      }
      try {
        return states.session(HistoryStore.readOnly(store(ks, Topics.HISTORY_STORE)),
            KafkaSnapshots.readOnly(store(ks, Topics.SNAPSHOT_STORE)));
      } catch (InvalidStateStoreException e) {
        throw new StateUnavailableException("state stores not available: " + e.getMessage(), e);
      }
    });
  }

  private static ReadOnlyKeyValueStore<Bytes, byte[]> store(KafkaStreams ks, String name) {
    return ks.store(StoreQueryParameters.fromNameAndType(name,
        QueryableStoreTypes.<Bytes, byte[]>keyValueStore()).enableStaleStores());
  }
}
