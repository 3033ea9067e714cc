package dev.reranker.data;

import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * The project's event format, one JSON object per event (a line of a JSONL file, or the value of a
 * Kafka record on the interactions topic):
 * <pre>
 * {"schemaVersion":1,"eventId":"e-42","userId":"u-7","itemId":"sku-123","timestamp":1700000000000,
 *  "eventType":"view"}
 * </pre>
 * {@code timestamp} is epoch milliseconds. Ids are strings (integers are accepted and read as their
 * decimal form) that follow {@link Ids}: 1 to 256 characters, Unicode scalar values, no control
 * characters. Duplicate fields are refused (which one would count?). {@code schemaVersion} is optional (1 when
 * absent); other versions are refused. Unknown fields are ignored, so producers may add some.
 * Thread-safe.
 */
public final class InteractionJson {

  /** The schema version this build writes and reads. */
  public static final int SCHEMA_VERSION = 1;
  /** The longest id accepted. */
  public static final int MAX_ID_LENGTH = Ids.MAX_LENGTH;

  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(tools.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

  private InteractionJson() {}

  /**
   * Parses one event.
   *
   * @throws InvalidEventException with the reason: malformed JSON, a missing or mistyped field, an
   *     unknown event type, an unsupported schema version
   */
  public static Interaction parse(String json) throws InvalidEventException {
    if (json == null || json.isBlank()) {
      throw new InvalidEventException("empty event");
    }
    JsonNode node;
    try {
      node = JSON.readTree(json);
    } catch (JacksonException e) {
      throw new InvalidEventException("malformed JSON: " + firstLine(e.getOriginalMessage()));
    }
    if (node == null || !node.isObject()) {
      throw new InvalidEventException("event must be a JSON object");
    }
    JsonNode version = node.get("schemaVersion");
    if (version != null && !version.isNull()) {
      if (!version.isIntegralNumber() || version.asInt() != SCHEMA_VERSION) {
        throw new InvalidEventException("unsupported schemaVersion " + version + " (this build "
            + "reads " + SCHEMA_VERSION + ")");
      }
    }
    String eventId = id(node, "eventId");
    String userId = id(node, "userId");
    String itemId = id(node, "itemId");
    JsonNode ts = node.get("timestamp");
    if (ts == null || ts.isNull()) {
      throw new InvalidEventException("missing field 'timestamp'");
    }
    if (!ts.isIntegralNumber() || !ts.canConvertToLong()) {
      throw new InvalidEventException("field 'timestamp' must be an integer (epoch milliseconds), "
          + "got " + abbreviate(ts.toString()));
    }
    long timestamp = ts.longValue();
    if (timestamp < 0) {
      throw new InvalidEventException("field 'timestamp' must be ≥ 0, got " + timestamp);
    }
    JsonNode type = node.get("eventType");
    if (type == null || type.isNull()) {
      throw new InvalidEventException("missing field 'eventType'");
    }
    if (!type.isString()) {
      throw new InvalidEventException("field 'eventType' must be a string");
    }
    EventType eventType;
    try {
      eventType = EventType.parse(type.asString());
    } catch (IllegalArgumentException e) {
      throw new InvalidEventException(InvalidEventException.Kind.UNKNOWN_EVENT_TYPE,
          e.getMessage());
    }
    return new Interaction(userId, itemId, timestamp, eventType, eventId);
  }

  /** The JSON form of an event (with its schema version). */
  public static String toJson(Interaction e) {
    if (!e.hasTimestamp()) {
      throw new IllegalArgumentException("events without a timestamp have no JSON form");
    }
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("schemaVersion", SCHEMA_VERSION);
    m.put("eventId", e.eventId());
    m.put("userId", e.userId());
    m.put("itemId", e.itemId());
    m.put("timestamp", e.timestamp());
    m.put("eventType", e.eventType().wireName());
    return JSON.writeValueAsString(m);
  }

  private static String id(JsonNode node, String field) throws InvalidEventException {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      throw new InvalidEventException("missing field '" + field + "'");
    }
    String s;
    if (v.isString()) {
      s = v.asString();
    } else if (v.isIntegralNumber()) {
      s = v.bigIntegerValue().toString();
    } else {
      throw new InvalidEventException("field '" + field + "' must be a string or an integer, got "
          + abbreviate(v.toString()));
    }
    String problem = Ids.problem(s);
    if (problem != null) {
      throw new InvalidEventException("field '" + field + "' " + problem);
    }
    return s;
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "unparseable";
    }
    int nl = s.indexOf('\n');
    return abbreviate(nl < 0 ? s : s.substring(0, nl));
  }

  static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 77) + "...";
  }
}
