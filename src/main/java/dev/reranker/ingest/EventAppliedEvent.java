package dev.reranker.ingest;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * A JFR event for each interaction the ingestion appended to a user's history: when the stream
 * thread applied it, with the record's partition, offset and timestamp. Off unless a recording
 * enables {@value #NAME} (then one event per applied interaction, no stack trace; fields
 * {@code userId}, {@code eventId}, {@code partition}, {@code offset}, {@code recordTimestamp}),
 * so it costs a disabled-event check per record otherwise.
 *
 * <p>Why: it splits an event's way from the broker into the engine in two — the Streams
 * consumer's fetch and buffering up to the processor, and after it — which the freshness
 * benchmark reports per probe, and which an operator can record in production
 * ({@code jcmd <pid> JFR.start settings=… } with {@value #NAME} enabled) when events are late.
 */
@Name(EventAppliedEvent.NAME)
@Label("Interaction applied")
@Category({"Reranker", "Ingest"})
@Description("An interaction appended to its user's history by the ingestion's stream thread.")
@Enabled(false)
@StackTrace(false)
public final class EventAppliedEvent extends jdk.jfr.Event {

  public static final String NAME = "dev.reranker.ingest.EventApplied";

  @Label("User")
  String userId;

  @Label("Event id")
  String eventId;

  @Label("Partition")
  int partition;

  @Label("Offset")
  long offset;

  @Label("Record timestamp")
  @jdk.jfr.Timestamp(jdk.jfr.Timestamp.MILLISECONDS_SINCE_EPOCH)
  long recordTimestamp;
}
