package dev.reranker.ingest;

import dev.reranker.state.SnapshotStore;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Performer snapshots in a Kafka Streams key-value store (RocksDB, changelogged): key
 * [u16 length][model version][userId], value [u64 history position][EncoderState bytes]. One per
 * (user, model version); a newer snapshot replaces the older (the changelog is compacted).
 */
final class KafkaSnapshots implements SnapshotStore {

  private final ReadOnlyKeyValueStore<Bytes, byte[]> reads;
  private final KeyValueStore<Bytes, byte[]> writes;
  private long bytesWritten;

  private KafkaSnapshots(ReadOnlyKeyValueStore<Bytes, byte[]> reads,
      KeyValueStore<Bytes, byte[]> writes) {
    this.reads = reads;
    this.writes = writes;
  }

  static KafkaSnapshots writable(KeyValueStore<Bytes, byte[]> store) {
    return new KafkaSnapshots(store, store);
  }

  static KafkaSnapshots readOnly(ReadOnlyKeyValueStore<Bytes, byte[]> store) {
    return new KafkaSnapshots(store, null);
  }

  @Override
  public Optional<Snapshot> load(String userId, String modelVersion) {
    byte[] v = reads.get(key(userId, modelVersion));
    if (v == null) {
      return Optional.empty();
    }
    ByteBuffer b = ByteBuffer.wrap(v);
    long position = b.getLong();
    byte[] state = new byte[v.length - 8];
    b.get(state);
    return Optional.of(new Snapshot(position, state));
  }

  @Override
  public void save(String userId, String modelVersion, Snapshot snapshot) {
    if (writes == null) {
      throw new IllegalStateException("read-only snapshot store");
    }
    Bytes key = key(userId, modelVersion);
    byte[] value = ByteBuffer.allocate(8 + snapshot.state().length)
        .putLong(snapshot.historyPosition()).put(snapshot.state()).array();
    writes.put(key, value);
    bytesWritten += key.get().length + value.length;
  }

  public long bytesWritten() {
    return bytesWritten;
  }

  static Bytes key(String userId, String modelVersion) {
    byte[] version = modelVersion.getBytes(StandardCharsets.UTF_8);
    byte[] user = userId.getBytes(StandardCharsets.UTF_8);
    return Bytes.wrap(ByteBuffer.allocate(2 + version.length + user.length)
        .putShort((short) version.length).put(version).put(user).array());
  }
}
