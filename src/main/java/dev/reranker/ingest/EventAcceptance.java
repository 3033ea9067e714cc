package dev.reranker.ingest;

import dev.reranker.data.Interaction;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;

/**
 * The ingestion's acceptance rule, offline: which records of the interactions topic the engine
 * applied, read in partition order — the same validation ({@link EventValidator}) and the same
 * deduplication (an event id repeated while the first is among the user's last {@code
 * historyLimit} events). The experiment replay applies it so that it sees exactly the events the
 * live outcome join saw.
 *
 * <p>One difference it cannot remove: the live rule measures a future timestamp against the wall
 * clock when the record is processed, this one against the record's Kafka timestamp (when it was
 * produced, or appended); an event within a few seconds of the tolerance can fall on different
 * sides. Memory: up to {@code historyLimit} event ids per user.
 */
public final class EventAcceptance {

  /** What became of one record. */
  public sealed interface Verdict {}

  /** Applied: the event. */
  public record Accepted(Interaction event) implements Verdict {}

  /**
   * Not applied: a rejection's reason code ({@link Rejection.Code#wireName}) or {@value
   * IngestTopology#REPEAT}.
   */
  public record Ignored(String reason) implements Verdict {}

  private final EventValidator validator;
  private final int historyLimit;
  private final Map<String, LinkedHashSet<String>> recentIds = new HashMap<>();

  public EventAcceptance(IngestSettings settings) {
    this.validator = new EventValidator(settings.maxRecordBytes(),
        settings.futureTolerance().toMillis());
    this.historyLimit = settings.historyLimit();
  }

  /**
   * @param recordTimestamp the record's Kafka timestamp: "now" for the future-timestamp rule
   */
  public Verdict accept(String key, byte[] value, long recordTimestamp) {
    EventValidator.Result r = validator.validate(key, value, recordTimestamp);
    if (r instanceof EventValidator.Rejected rejected) {
      return new Ignored(rejected.rejection().code().wireName());
    }
    Interaction e = ((EventValidator.Accepted) r).event();
    LinkedHashSet<String> ids = recentIds.computeIfAbsent(e.userId(), u -> new LinkedHashSet<>());
    if (!ids.add(e.eventId())) {
      return new Ignored(IngestTopology.REPEAT);
    }
    if (ids.size() > historyLimit) { // the oldest event left the retained history
      var it = ids.iterator();
      it.next();
      it.remove();
    }
    return new Accepted(e);
  }
}
