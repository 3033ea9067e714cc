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
import org.apache.kafka.streams.state.KeyValueIterator;
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
    return unavailableWhenMoved(ks.store(StoreQueryParameters.fromNameAndType(name,
        QueryableStoreTypes.<Bytes, byte[]>keyValueStore()).enableStaleStores()));
  }

  /**
   * The store, with a read that finds it closed under it — its task migrating in a rebalance,
   * found by the process fault test as 500s — turned into {@link StateUnavailableException}, which
   * requests answer degraded, like a store that was not there to begin with.
   */
  static ReadOnlyKeyValueStore<Bytes, byte[]> unavailableWhenMoved(
      ReadOnlyKeyValueStore<Bytes, byte[]> store) {
    return new ReadOnlyKeyValueStore<>() {
      @Override
      public byte[] get(Bytes key) {
        return guarded(() -> store.get(key));
      }

      @Override
      public KeyValueIterator<Bytes, byte[]> range(Bytes from, Bytes to) {
        return iterator(guarded(() -> store.range(from, to)));
      }

      @Override
      public KeyValueIterator<Bytes, byte[]> reverseRange(Bytes from, Bytes to) {
        return iterator(guarded(() -> store.reverseRange(from, to)));
      }

      @Override
      public KeyValueIterator<Bytes, byte[]> all() {
        return iterator(guarded(store::all));
      }

      @Override
      public <PS extends org.apache.kafka.common.serialization.Serializer<P>, P>
          KeyValueIterator<Bytes, byte[]> prefixScan(P prefix, PS serializer) {
        return iterator(guarded(() -> store.prefixScan(prefix, serializer)));
      }

      @Override
      public long approximateNumEntries() {
        return guarded(store::approximateNumEntries);
      }
    };
  }

  private static KeyValueIterator<Bytes, byte[]> iterator(KeyValueIterator<Bytes, byte[]> it) {
    return new KeyValueIterator<>() {
      @Override
      public boolean hasNext() {
        return guarded(it::hasNext);
      }

      @Override
      public org.apache.kafka.streams.KeyValue<Bytes, byte[]> next() {
        return guarded(it::next);
      }

      @Override
      public Bytes peekNextKey() {
        return guarded(it::peekNextKey);
      }

      @Override
      public void close() {
        it.close();
      }
    };
  }

  private static <T> T guarded(Supplier<T> read) {
    try {
      return read.get();
    } catch (InvalidStateStoreException e) {
      throw moved(e);
    }
  }

  private static StateUnavailableException moved(InvalidStateStoreException e) {
    return new StateUnavailableException("a state store moved during the read: "
        + e.getMessage(), e);
  }
}
