package dev.reranker.ingest;

import dev.reranker.data.EventType;
import dev.reranker.data.Interaction;
import dev.reranker.state.HistoryEvent;
import dev.reranker.state.HistoryReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Users' histories in a Kafka Streams key-value store (RocksDB, changelogged), one record per event
 * so that appending costs one small write, not a rewrite of the history:
 * <pre>
 *   key [u16 length][userId UTF-8]              → extent: first, next, last snapshot position
 *   key [u16 length][userId UTF-8][u64 position] → event: timestamp, type, item id
 * </pre>
 * Keys sort by user, then position (big-endian), so a user's events are one range scan. Each user
 * keeps at most {@code limit} events: appending past it deletes the oldest. Reads work on any
 * {@link ReadOnlyKeyValueStore} (a task's store, or interactive queries across local tasks).
 */
public final class HistoryStore implements HistoryReader {

  /** A user's extent plus the position its last performer snapshot covers. */
  public record Meta(long first, long next, long snapshotPosition) {
    static final Meta EMPTY = new Meta(0, 0, 0);
  }

  private final ReadOnlyKeyValueStore<Bytes, byte[]> reads;
  private final KeyValueStore<Bytes, byte[]> writes;
  private final int limit;
  private long bytesWritten;

  private HistoryStore(ReadOnlyKeyValueStore<Bytes, byte[]> reads,
      KeyValueStore<Bytes, byte[]> writes, int limit) {
    this.reads = reads;
    this.writes = writes;
    this.limit = limit;
  }

  /** Read-write access for the ingest processor. */
  public static HistoryStore writable(KeyValueStore<Bytes, byte[]> store, int limit) {
    return new HistoryStore(store, store, limit);
  }

  /** Read-only access (interactive queries). */
  public static HistoryStore readOnly(ReadOnlyKeyValueStore<Bytes, byte[]> store) {
    return new HistoryStore(store, null, Integer.MAX_VALUE);
  }

  public Meta meta(String userId) {
    byte[] v = reads.get(metaKey(userId));
    if (v == null) {
      return Meta.EMPTY;
    }
    ByteBuffer b = ByteBuffer.wrap(v);
    return new Meta(b.getLong(), b.getLong(), b.getLong());
  }

  @Override
  public Extent extent(String userId) {
    Meta m = meta(userId);
    return new Extent(m.first(), m.next());
  }

  @Override
  public List<HistoryEvent> events(String userId, long from, long to) {
    Meta m = meta(userId);
    long start = Math.max(from, m.first());
    long end = Math.min(to, m.next());
    List<HistoryEvent> out = new ArrayList<>((int) Math.max(0, end - start));
    if (start >= end) {
      return out;
    }
    try (KeyValueIterator<Bytes, byte[]> it = reads.range(eventKey(userId, start),
        eventKey(userId, end - 1))) {
      while (it.hasNext()) {
        KeyValue<Bytes, byte[]> kv = it.next();
        out.add(decodeEvent(positionOf(kv.key), kv.value));
      }
    }
    return out;
  }

  /** Appends an event and returns its position; drops the oldest beyond the limit. */
  public long append(Interaction event) {
    return append(event, meta(event.userId()));
  }

  /** {@link #append(Interaction)} given the user's current meta (saves a read). */
  public long append(Interaction event, Meta m) {
    String user = event.userId();
    long position = m.next();
    put(eventKey(user, position), encodeEvent(event));
    long first = m.first();
    if (position + 1 - first > limit) {
      writes.delete(eventKey(user, first));
      first++;
    }
    putMeta(user, new Meta(first, position + 1, m.snapshotPosition()));
    return position;
  }

  /** Records that a snapshot now covers the user's history up to {@code position}. */
  public void markSnapshot(String userId, long position) {
    Meta m = meta(userId);
    putMeta(userId, new Meta(m.first(), m.next(), Math.max(position, m.snapshotPosition())));
  }

  /** Bytes of keys and values written through this instance (what reaches the changelog). */
  public long bytesWritten() {
    return bytesWritten;
  }

  private void putMeta(String user, Meta m) {
    ByteBuffer b = ByteBuffer.allocate(24);
    b.putLong(m.first()).putLong(m.next()).putLong(m.snapshotPosition());
    put(metaKey(user), b.array());
  }

  private void put(Bytes key, byte[] value) {
    writes.put(key, value);
    bytesWritten += key.get().length + value.length;
  }

  static Bytes metaKey(String userId) {
    byte[] id = userId.getBytes(StandardCharsets.UTF_8);
    return Bytes.wrap(ByteBuffer.allocate(2 + id.length).putShort((short) id.length).put(id)
        .array());
  }

  static Bytes eventKey(String userId, long position) {
    byte[] id = userId.getBytes(StandardCharsets.UTF_8);
    return Bytes.wrap(ByteBuffer.allocate(2 + id.length + 8).putShort((short) id.length).put(id)
        .putLong(position).array());
  }

  private static long positionOf(Bytes key) {
    byte[] k = key.get();
    return ByteBuffer.wrap(k, k.length - 8, 8).getLong();
  }

  static byte[] encodeEvent(Interaction e) {
    byte[] item = e.itemId().getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(9 + item.length).putLong(e.timestamp())
        .put((byte) e.eventType().ordinal()).put(item).array();
  }

  static HistoryEvent decodeEvent(long position, byte[] v) {
    ByteBuffer b = ByteBuffer.wrap(v);
    long timestamp = b.getLong();
    EventType type = EventType.values()[b.get()];
    String item = new String(v, 9, v.length - 9, StandardCharsets.UTF_8);
    return new HistoryEvent(position, item, timestamp, type);
  }
}
