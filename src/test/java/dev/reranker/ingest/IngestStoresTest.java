package dev.reranker.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reranker.state.StateUnavailableException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.Test;

/**
 * A store read that finds the store closed under it (its task migrating) is "state unavailable"
 * (the request is answered degraded), not an error (found as 500s by the process fault test).
 */
class IngestStoresTest {

  @Test
  void aStoreThatMovesDuringAReadIsUnavailableNotAnError() {
    KeyValueStore<Bytes, byte[]> real = Stores.keyValueStoreBuilder(
        Stores.inMemoryKeyValueStore("s"), Serdes.Bytes(), Serdes.ByteArray())
        .withLoggingDisabled().build();
    MockProcessorContext<Object, Object> context = new MockProcessorContext<>();
    real.init(context.getStateStoreContext(), real);
    Bytes a = Bytes.wrap(new byte[] {1});
    Bytes b = Bytes.wrap(new byte[] {2});
    real.put(a, new byte[] {10});
    real.put(b, new byte[] {20});
    AtomicBoolean moved = new AtomicBoolean();
    ReadOnlyKeyValueStore<Bytes, byte[]> closing = new ReadOnlyKeyValueStore<>() {
      @Override
      public byte[] get(Bytes key) {
        check();
        return real.get(key);
      }

      @Override
      public KeyValueIterator<Bytes, byte[]> range(Bytes from, Bytes to) {
        KeyValueIterator<Bytes, byte[]> it = real.range(from, to);
        return new KeyValueIterator<>() {
          @Override
          public boolean hasNext() {
            check();
            return it.hasNext();
          }

          @Override
          public org.apache.kafka.streams.KeyValue<Bytes, byte[]> next() {
            check();
            return it.next();
          }

          @Override
          public Bytes peekNextKey() {
            return it.peekNextKey();
          }

          @Override
          public void close() {
            it.close();
          }
        };
      }

      @Override
      public KeyValueIterator<Bytes, byte[]> all() {
        return range(null, null);
      }

      @Override
      public long approximateNumEntries() {
        return real.approximateNumEntries();
      }

      private void check() {
        if (moved.get()) {
          throw new InvalidStateStoreException("the store is not open");
        }
      }
    };
    ReadOnlyKeyValueStore<Bytes, byte[]> store = IngestStores.unavailableWhenMoved(closing);
    assertThat(store.get(a)).containsExactly(10);
    try (KeyValueIterator<Bytes, byte[]> it = store.range(a, b)) {
      assertThat(it.next().value).containsExactly(10);
      moved.set(true); // the task migrates between two reads of one iteration
      assertThatThrownBy(it::hasNext).isInstanceOf(StateUnavailableException.class)
          .hasMessageContaining("moved");
    }
    assertThatThrownBy(() -> store.get(a)).isInstanceOf(StateUnavailableException.class);
  }
}
