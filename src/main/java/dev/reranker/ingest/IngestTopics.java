package dev.reranker.ingest;

/** Names of the topics and state stores of the ingestion topology. */
public final class IngestTopics {
  private IngestTopics() {}

  /** Default input topic: key = userId, value = a JSON event ({@code InteractionJson}). */
  public static final String INTERACTIONS = "interactions";
  /** Default dead-letter topic: the original bytes, a {@value #REASON_HEADER} header. */
  public static final String DLQ = "interactions.dlq";

  /** Per-user history: one record per event plus a small extent record (RocksDB, changelogged). */
  public static final String HISTORY_STORE = "user-history";
  /** Performer state snapshots (RocksDB, changelogged). */
  public static final String SNAPSHOT_STORE = "state-snapshots";

  /** DLQ header: the human-readable reason. */
  public static final String REASON_HEADER = "reason";
  /** DLQ header: a stable reason code ({@link Rejection.Code}). */
  public static final String REASON_CODE_HEADER = "reason-code";
  /** DLQ headers: where the record came from. */
  public static final String SOURCE_TOPIC_HEADER = "source-topic";
  public static final String SOURCE_PARTITION_HEADER = "source-partition";
  public static final String SOURCE_OFFSET_HEADER = "source-offset";
  /** DLQ header: the value was cut to the configured bound; this is its original length. */
  public static final String TRUNCATED_HEADER = "truncated-from-bytes";
  /** DLQ header: the SHA-256 (hex) of a truncated value's original bytes. */
  public static final String ORIGINAL_SHA256_HEADER = "original-sha256";
  /** DLQ header: the original headers were too large to copy; this is how many there were. */
  public static final String HEADERS_OMITTED_HEADER = "original-headers-omitted";
  /** DLQ header: the key was cut; this is its original length in characters. */
  public static final String KEY_TRUNCATED_HEADER = "key-truncated-from-chars";
}
