package dev.reranker.experiment;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.common.utils.Bytes;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * Every byte layout of the outcome join's stores and records, in one place: what a changelog
 * holds, so a change of format is one reviewable diff (and a store written by an older build is
 * read here or nowhere). The join ({@link OutcomeJoin}), the report's readers and the replay go
 * through these methods only.
 *
 * <ul>
 *   <li>pending exposures: key {@code [u16 length][user][8-byte served time, sign flipped so
 *   that byte order is time order][request id]} (one user's exposures are one range, oldest
 *   first); value the exposure's JSON ({@link #JSON}).</li>
 *   <li>user outcomes: key {@code experiment \0 arm \0 user}; value {@link UserTotals}: four
 *   doubles (hits, NDCG, reciprocal rank, resolved), and on the interleaved arm two longs
 *   (credits to performer, to softmax).</li>
 *   <li>arm aggregates: key {@code experiment \0 arm}; value {@link ArmAggregate}'s own
 *   versioned format.</li>
 *   <li>arm series: key {@code experiment \0 arm \0 [8-byte bucket start]}; value as the
 *   aggregates.</li>
 *   <li>recent interactions: key the user; value {@code [u8 count]} then per interaction
 *   {@code [8-byte time][u16 length][item]}, oldest first.</li>
 *   <li>ignored interactions: key the reason code; value an 8-byte count.</li>
 *   <li>the join's input from the ingestion (the internal topic {@value
 *   OutcomeJoin#INGESTED_TOPIC_NAME}): key the user (an ignored record's own key, {@code ""} for
 *   none); value {@code [1][8-byte time][u8 event type][u16 length][user][u16 length][item][event
 *   id]} for an applied event, {@code [2][reason]} for an ignored record.</li>
 * </ul>
 */
final class OutcomeStores {
  private OutcomeStores() {}

  /** Exposures and resolved outcomes as JSON; unknown fields are ignored (newer writers). */
  static final ObjectMapper JSON = JsonMapper.builder()
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

  // ---- arm aggregates and series

  static byte[] aggregateKey(OutcomeJoin.Key key) {
    return (key.experiment() + '\u0000' + key.arm().wireName())
        .getBytes(StandardCharsets.UTF_8);
  }

  static OutcomeJoin.Key aggregateKey(byte[] b) {
    String s = new String(b, StandardCharsets.UTF_8);
    int z = s.indexOf('\u0000');
    return new OutcomeJoin.Key(s.substring(0, z), ArmChoice.parse(s.substring(z + 1)));
  }

  /** The prefix of one experiment's aggregate and series keys. */
  static Bytes experimentPrefix(String experiment) {
    return Bytes.wrap((experiment + '\u0000').getBytes(StandardCharsets.UTF_8));
  }

  static byte[] seriesKey(OutcomeJoin.Key key, long bucket) {
    byte[] k = aggregateKey(key);
    return ByteBuffer.allocate(k.length + 9).put(k).put((byte) 0).putLong(bucket).array();
  }

  /** The aggregate key of a series key. */
  static OutcomeJoin.Key seriesAggregateKey(byte[] seriesKey) {
    return aggregateKey(Arrays.copyOf(seriesKey, seriesKey.length - 9));
  }

  /** The bucket start of a series key. */
  static long seriesBucket(byte[] seriesKey) {
    return ByteBuffer.wrap(seriesKey, seriesKey.length - 8, 8).getLong();
  }

  static byte[] aggregate(ArmAggregate a) {
    return a.toBytes();
  }

  /** @throws IllegalArgumentException when the bytes are no aggregate */
  static ArmAggregate aggregate(byte[] b) {
    return ArmAggregate.fromBytes(b);
  }

  // ---- pending exposures

  /** {@code [u16 length][user][8-byte time, sign flipped: ordered][request id]}. */
  static Bytes pendingKey(String user, long time, String requestId) {
    byte[] u = user.getBytes(StandardCharsets.UTF_8);
    byte[] r = requestId == null ? new byte[0] : requestId.getBytes(StandardCharsets.UTF_8);
    return Bytes.wrap(ByteBuffer.allocate(2 + u.length + 8 + r.length).putShort((short) u.length)
        .put(u).putLong(time ^ Long.MIN_VALUE).put(r).array());
  }

  /** The served time of a {@link #pendingKey}. */
  static long servedTime(Bytes pendingKey) {
    ByteBuffer b = ByteBuffer.wrap(pendingKey.get());
    int userLength = b.getShort() & 0xffff;
    return b.getLong(2 + userLength) ^ Long.MIN_VALUE;
  }

  /**
   * The served-time index's key of a {@link #pendingKey}: {@code [8-byte served time, sign
   * flipped: ordered][the pending key]}, so the index iterates oldest first across all users.
   */
  static Bytes dueKey(Bytes pendingKey) {
    byte[] p = pendingKey.get();
    return Bytes.wrap(ByteBuffer.allocate(8 + p.length).putLong(servedTime(pendingKey)
        ^ Long.MIN_VALUE).put(p).array());
  }

  /** The user of a {@link #pendingKey}. */
  static String pendingUser(Bytes pendingKey) {
    byte[] k = pendingKey.get();
    int userLength = ((k[0] & 0xff) << 8) | (k[1] & 0xff);
    return new String(k, 2, userLength, StandardCharsets.UTF_8);
  }

  /**
   * A user's pending exposures in the per-user store: how many, and a served time at or before
   * which none of them was served (a lower bound: exact after an exposure is added, raised past
   * an interaction's time when it resolves what was served by then, left as it is when the
   * sweep resolves one).
   */
  record UserPending(int count, long floor) {
    static final UserPending NONE = new UserPending(0, Long.MAX_VALUE);

    UserPending plusOne(long served) {
      return new UserPending(count + 1, Math.min(floor, served));
    }

    UserPending plus(UserPending other) {
      return new UserPending(count + other.count, Math.min(floor, other.floor));
    }

    /** {@code resolved} fewer; the floor raised to {@code atLeast} if that is higher. */
    UserPending minus(int resolved, long atLeast) {
      return new UserPending(Math.max(0, count - resolved), Math.max(floor, atLeast));
    }
  }

  /** 12 bytes: count, floor. */
  static byte[] userPending(UserPending p) {
    return ByteBuffer.allocate(12).putInt(p.count()).putLong(p.floor()).array();
  }

  /** {@link UserPending#NONE} for null (the user has nothing pending). */
  static UserPending userPending(byte[] value) {
    if (value == null) {
      return UserPending.NONE;
    }
    ByteBuffer b = ByteBuffer.wrap(value);
    return new UserPending(b.getInt(), b.getLong());
  }

  /** The per-user store's marker: every pending exposure is counted (no user id is a NUL). */
  static final Bytes PER_USER_COMPLETE = Bytes.wrap(new byte[] {0});

  /** The lowest {@link #dueKey} of an exposure served at {@code time} or later. */
  static Bytes dueFrom(long time) {
    return Bytes.wrap(ByteBuffer.allocate(8).putLong(time ^ Long.MIN_VALUE).array());
  }

  /** The served time of a {@link #dueKey}. */
  static long dueTime(Bytes dueKey) {
    return ByteBuffer.wrap(dueKey.get()).getLong() ^ Long.MIN_VALUE;
  }

  /** The pending key a {@link #dueKey} points at. */
  static Bytes duePendingKey(Bytes dueKey) {
    byte[] k = dueKey.get();
    return Bytes.wrap(Arrays.copyOfRange(k, 8, k.length));
  }

  /**
   * The index's one key that is no {@link #dueKey} (one byte; every due key is longer): present
   * once the index covers every pending exposure. A store written before the index existed lacks
   * it, and its first sweep reads the pending exposures once to build the index.
   */
  static final Bytes DUE_INDEX_COMPLETE = Bytes.wrap(new byte[] {0});

  static boolean isDueKey(Bytes key) {
    return key.get().length > 8;
  }

  static byte[] exposure(Exposure e) {
    return JSON.writeValueAsBytes(e);
  }

  static Exposure exposure(byte[] json) {
    return JSON.readValue(json, Exposure.class);
  }

  // ---- user totals

  static Bytes userKey(String experiment, ArmChoice arm, String user) {
    return Bytes.wrap((experiment + '\u0000' + arm.wireName() + '\u0000' + user)
        .getBytes(StandardCharsets.UTF_8));
  }

  /** 32 bytes; 48 on the interleaved arm, which also keeps the user's credits. */
  static byte[] totals(UserTotals t, ArmChoice arm) {
    boolean interleaved = arm == ArmChoice.INTERLEAVED;
    ByteBuffer b = ByteBuffer.allocate(interleaved ? 48 : 32).putDouble(t.hits())
        .putDouble(t.ndcg()).putDouble(t.reciprocalRank()).putDouble(t.resolved());
    if (interleaved) {
      b.putLong(t.creditsPerformer()).putLong(t.creditsSoftmax());
    }
    return b.array();
  }

  /** {@link UserTotals#NONE} for null (a user not seen yet). */
  static UserTotals totals(byte[] v) {
    if (v == null) {
      return UserTotals.NONE;
    }
    ByteBuffer b = ByteBuffer.wrap(v);
    double h = b.getDouble();
    double n = b.getDouble();
    double r = b.getDouble();
    double c = b.getDouble();
    long p = b.remaining() >= 16 ? b.getLong() : 0;
    long s = b.remaining() >= 8 ? b.getLong() : 0;
    return new UserTotals(h, n, r, c, p, s);
  }

  // ---- recent interactions

  /** One remembered interaction: its time and item. */
  record Recent(long time, String item) {}

  static Bytes userKey(String user) {
    return Bytes.wrap(user.getBytes(StandardCharsets.UTF_8));
  }

  static byte[] recent(List<Recent> list) {
    if (list.size() > 255) {
      throw new IllegalArgumentException("at most 255 recent interactions, got " + list.size());
    }
    int size = 1;
    List<byte[]> items = new ArrayList<>(list.size());
    for (Recent r : list) {
      byte[] b = r.item().getBytes(StandardCharsets.UTF_8);
      items.add(b);
      size += 8 + 2 + b.length;
    }
    ByteBuffer out = ByteBuffer.allocate(size).put((byte) list.size());
    for (int j = 0; j < list.size(); j++) {
      out.putLong(list.get(j).time()).putShort((short) items.get(j).length).put(items.get(j));
    }
    return out.array();
  }

  static List<Recent> recent(byte[] v) {
    if (v == null) {
      return List.of();
    }
    ByteBuffer b = ByteBuffer.wrap(v);
    int n = b.get() & 0xff;
    List<Recent> out = new ArrayList<>(n);
    for (int j = 0; j < n; j++) {
      long t = b.getLong();
      byte[] item = new byte[b.getShort() & 0xffff];
      b.get(item);
      out.add(new Recent(t, new String(item, StandardCharsets.UTF_8)));
    }
    return out;
  }

  // ---- ignored interactions

  static Bytes reasonKey(String reason) {
    return Bytes.wrap(reason.getBytes(StandardCharsets.UTF_8));
  }

  static String reason(Bytes key) {
    return new String(key.get(), StandardCharsets.UTF_8);
  }

  static byte[] count(long n) {
    return ByteBuffer.allocate(8).putLong(n).array();
  }

  /** 0 for null. */
  static long count(byte[] v) {
    return v == null ? 0 : ByteBuffer.wrap(v).getLong();
  }

  // ---- the join's input from the ingestion

  private static final byte APPLIED = 1;
  private static final byte IGNORED = 2;

  static byte[] joinInput(OutcomeJoin.Input input) {
    return switch (input) {
      case OutcomeJoin.Interacted(dev.reranker.data.Interaction e) -> {
        byte[] user = e.userId().getBytes(StandardCharsets.UTF_8);
        byte[] item = e.itemId().getBytes(StandardCharsets.UTF_8);
        byte[] id = e.eventId().getBytes(StandardCharsets.UTF_8);
        yield ByteBuffer.allocate(1 + 8 + 1 + 2 + user.length + 2 + item.length + id.length)
            .put(APPLIED).putLong(e.timestamp()).put((byte) e.eventType().ordinal())
            .putShort(u16(user.length)).put(user).putShort(u16(item.length)).put(item).put(id)
            .array();
      }
      case OutcomeJoin.Ignored(String reason) -> {
        byte[] r = reason.getBytes(StandardCharsets.UTF_8);
        yield ByteBuffer.allocate(1 + r.length).put(IGNORED).put(r).array();
      }
      case OutcomeJoin.Exposed x -> throw new IllegalArgumentException(
          "exposures are read from their own topic");
    };
  }

  /** @throws IllegalArgumentException when the bytes are no join input this build writes */
  static OutcomeJoin.Input joinInput(byte[] v) {
    if (v == null || v.length == 0) {
      throw new IllegalArgumentException("an empty join input record");
    }
    try {
      ByteBuffer b = ByteBuffer.wrap(v);
      return switch (b.get()) {
        case APPLIED -> {
          long time = b.getLong();
          dev.reranker.data.EventType type = dev.reranker.data.EventType.values()[b.get()];
          String user = utf8(b, b.getShort() & 0xffff);
          String item = utf8(b, b.getShort() & 0xffff);
          String id = utf8(b, b.remaining());
          yield new OutcomeJoin.Interacted(new dev.reranker.data.Interaction(user, item, time,
              type, id));
        }
        case IGNORED -> new OutcomeJoin.Ignored(utf8(b, b.remaining()));
        default -> throw new IllegalArgumentException("unknown join input tag " + v[0]);
      };
    } catch (java.nio.BufferUnderflowException | IndexOutOfBoundsException e) {
      throw new IllegalArgumentException("a truncated join input record", e);
    }
  }

  private static short u16(int length) {
    if (length > 0xffff) {
      throw new IllegalArgumentException("an id of " + length + " bytes (at most 65,535)");
    }
    return (short) length;
  }

  private static String utf8(ByteBuffer b, int length) {
    String s = new String(b.array(), b.position(), length, StandardCharsets.UTF_8);
    b.position(b.position() + length);
    return s;
  }
}
