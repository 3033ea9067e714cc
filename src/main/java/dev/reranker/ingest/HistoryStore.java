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
 *   key [u16 length][userId UTF-8]                  → extent: first, next, last snapshot position
 *   key [u16 length][userId UTF-8][u64 position]     → event: timestamp, type | 0x80, u16 item
 *                                                      length, item id, event id (all UTF-8)
 *   key [u16 length][userId UTF-8][0xFF][eventId]    → the event's position (deduplication)
 * </pre>
 * Keys sort by user, then position (big-endian), so a user's events are one range scan; the
 * event-id keys sort after them (a position's first byte is 0 below 2⁵⁶). Each user keeps at most
 * {@code limit} events: appending past it deletes the oldest, and its event-id key with it, so an
 * event id is known exactly as long as its event is retained. Event records written before event
 * ids were stored (type byte without the 0x80 flag: timestamp, type, item id) still decode.
 * Reads work on any {@link ReadOnlyKeyValueStore} (a task's store, or interactive queries across
 * local tasks).
 */
final class HistoryStore implements HistoryReader {

  /** A user's extent plus the position its last performer snapshot covers (the stored record). */
  record Meta(Extent extent, long snapshotPosition) {
    static final Meta EMPTY = new Meta(Extent.EMPTY, 0);

    Meta(long first, long next, long snapshotPosition) {
      this(new Extent(first, next), snapshotPosition);
    }

    long first() {
      return extent.first();
    }

    long next() {
      return extent.next();
    }
  }

  private final ReadOnlyKeyValueStore<Bytes, byte[]> reads;
  private final KeyValueStore<Bytes, byte[]> writes;
  private final int limit;
  private long bytesWritten;
  private long idBytesWritten;

  private HistoryStore(ReadOnlyKeyValueStore<Bytes, byte[]> reads,
      KeyValueStore<Bytes, byte[]> writes, int limit) {
    this.reads = reads;
    this.writes = writes;
    this.limit = limit;
  }

  /** Read-write access for the ingest processor. */
  static HistoryStore writable(KeyValueStore<Bytes, byte[]> store, int limit) {
    return new HistoryStore(store, store, limit);
  }

  /** Read-only access (interactive queries). */
  static HistoryStore readOnly(ReadOnlyKeyValueStore<Bytes, byte[]> store) {
    return new HistoryStore(store, null, Integer.MAX_VALUE);
  }

  Meta meta(String userId) {
    byte[] v = reads.get(metaKey(userId));
    if (v == null) {
      return Meta.EMPTY;
    }
    ByteBuffer b = ByteBuffer.wrap(v);
    return new Meta(b.getLong(), b.getLong(), b.getLong());
  }

  @Override
  public Extent extent(String userId) {
    return meta(userId).extent();
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

  /**
   * Whether the user's retained history already holds an event with this id (the deduplication
   * contract: event ids are unique per user, and a repeat is recognised while the first is
   * retained, whatever its timestamp).
   */
  public boolean contains(String userId, String eventId) {
    return reads.get(idKey(userId, eventId)) != null;
  }

  /** Appends an event and returns its position; drops the oldest beyond the limit. */
  public long append(Interaction event) {
    return append(event, meta(event.userId()));
  }

  /**
   * {@link #append(Interaction)} given the user's current meta (saves a read). The caller makes
   * sure the event's id is not in the user's retained history ({@link #contains}): each retained
   * id has one key, deleted with its event.
   */
  public long append(Interaction event, Meta m) {
    String user = event.userId();
    long position = m.next();
    put(eventKey(user, position), encodeEvent(event));
    Bytes id = idKey(user, event.eventId());
    writes.put(id, ByteBuffer.allocate(8).putLong(position).array());
    idBytesWritten += id.get().length + 8;
    long first = m.first();
    if (position + 1 - first > limit) {
      Bytes oldest = eventKey(user, first);
      byte[] dropped = reads.get(oldest);
      writes.delete(oldest);
      String droppedId = dropped == null ? null : decodeEventId(dropped);
      if (droppedId != null) { // its id key points here: ids are unique in the retained history
        writes.delete(idKey(user, droppedId));
      }
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

  /** Bytes of history keys and values written through this instance (what reaches the changelog). */
  public long bytesWritten() {
    return bytesWritten;
  }

  /** Bytes of event-id keys and values written (the deduplication's share of the changelog). */
  public long idBytesWritten() {
    return idBytesWritten;
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

  static Bytes idKey(String userId, String eventId) {
    byte[] user = userId.getBytes(StandardCharsets.UTF_8);
    byte[] id = eventId.getBytes(StandardCharsets.UTF_8);
    return Bytes.wrap(ByteBuffer.allocate(2 + user.length + 1 + id.length)
        .putShort((short) user.length).put(user).put(ID_TAG).put(id).array());
  }

  /** Marks an event-id key; a position's first byte is 0 for every position below 2⁵⁶. */
  private static final byte ID_TAG = (byte) 0xFF;
  /** Set in an event record's type byte when the record carries its event id. */
  private static final int WITH_ID = 0x80;

  private static long positionOf(Bytes key) {
    byte[] k = key.get();
    return ByteBuffer.wrap(k, k.length - 8, 8).getLong();
  }

  static byte[] encodeEvent(Interaction e) {
    byte[] item = e.itemId().getBytes(StandardCharsets.UTF_8);
    byte[] id = e.eventId().getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(11 + item.length + id.length).putLong(e.timestamp())
        .put((byte) (e.eventType().ordinal() | WITH_ID)).putShort((short) item.length).put(item)
        .put(id).array();
  }

  static HistoryEvent decodeEvent(long position, byte[] v) {
    ByteBuffer b = ByteBuffer.wrap(v);
    long timestamp = b.getLong();
    int type = b.get() & 0xFF;
    String item;
    if ((type & WITH_ID) != 0) {
      int length = b.getShort() & 0xFFFF;
      item = new String(v, 11, length, StandardCharsets.UTF_8);
    } else {
      item = new String(v, 9, v.length - 9, StandardCharsets.UTF_8);
    }
    return new HistoryEvent(position, item, timestamp, EventType.values()[type & ~WITH_ID]);
  }

  /** The event id an event record carries, or null for a record written without one. */
  static String decodeEventId(byte[] v) {
    if ((v[8] & WITH_ID) == 0) {
      return null;
    }
    int length = ByteBuffer.wrap(v, 9, 2).getShort() & 0xFFFF;
    return new String(v, 11 + length, v.length - 11 - length, StandardCharsets.UTF_8);
  }
}
