package dev.reranker.ingest;

import dev.reranker.data.Interaction;
import dev.reranker.data.InteractionJson;
import dev.reranker.data.InvalidEventException;
import java.nio.charset.StandardCharsets;

/**
 * Checks one Kafka record before anything is stored. Rejected: a missing, empty or blank value, a
 * value over the size limit (checked before parsing), a value that is not valid UTF-8, a missing key or one that is not the event's userId (the key
 * decides the partition, hence which instance owns the user), malformed JSON or a schema violation,
 * an unknown event type, a timestamp further in the future than the tolerance. Items the model
 * does not know are <em>not</em> rejected: they stay in the history (a later model may know them).
 * Immutable, thread-safe.
 */
final class EventValidator {

  /** The result: an event or a rejection. */
  public sealed interface Result permits Accepted, Rejected {}

  public record Accepted(Interaction event) implements Result {}

  public record Rejected(Rejection rejection) implements Result {}

  private final int maxRecordBytes;
  private final long futureToleranceMillis;

  public EventValidator(int maxRecordBytes, long futureToleranceMillis) {
    this.maxRecordBytes = maxRecordBytes;
    this.futureToleranceMillis = futureToleranceMillis;
  }

  public Result validate(String key, byte[] value, long nowMillis) {
    if (value == null || value.length == 0) {
      return reject(Rejection.Code.EMPTY, "empty record value");
    }
    if (value.length > maxRecordBytes) {
      return reject(Rejection.Code.OVERSIZED, "record value of " + value.length
          + " bytes exceeds the limit of " + maxRecordBytes);
    }
    // strict UTF-8: a lenient decode turns invalid bytes into U+FFFD, aliasing other ids. The
    // JDK's fast decode first; only a value that then holds U+FFFD (rare) is decoded strictly
    String text = new String(value, StandardCharsets.UTF_8);
    if (text.indexOf('\uFFFD') >= 0 && !strictUtf8(value)) {
      return reject(Rejection.Code.MALFORMED, "record value is not valid UTF-8");
    }
    if (text.isBlank()) {
      return reject(Rejection.Code.EMPTY, "record value is blank (whitespace only)");
    }
    Interaction event;
    try {
      event = InteractionJson.parse(text);
    } catch (InvalidEventException e) {
      Rejection.Code code = e.kind() == InvalidEventException.Kind.UNKNOWN_EVENT_TYPE
          ? Rejection.Code.UNKNOWN_EVENT_TYPE : Rejection.Code.MALFORMED;
      return reject(code, e.getMessage());
    }
    if (key == null || key.isEmpty()) {
      return reject(Rejection.Code.MISSING_KEY, "record has no key (the key must be the userId)");
    }
    if (!key.equals(event.userId())) {
      return reject(Rejection.Code.KEY_MISMATCH, "record key '" + abbreviate(key)
          + "' is not the event's userId '" + abbreviate(event.userId()) + "'");
    }
    if (event.timestamp() > nowMillis + futureToleranceMillis) {
      return reject(Rejection.Code.FUTURE_TIMESTAMP, "timestamp " + event.timestamp() + " is "
          + (event.timestamp() - nowMillis) / 1000 + " s in the future (tolerance "
          + futureToleranceMillis / 1000 + " s)");
    }
    return new Accepted(event);
  }

  private static boolean strictUtf8(byte[] value) {
    try {
      StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
          .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
          .decode(java.nio.ByteBuffer.wrap(value));
      return true;
    } catch (java.nio.charset.CharacterCodingException e) {
      return false;
    }
  }

  private static Result reject(Rejection.Code code, String reason) {
    return new Rejected(new Rejection(code, reason));
  }

  private static String abbreviate(String s) {
    return s.length() <= 64 ? s : s.substring(0, 61) + "...";
  }
}
