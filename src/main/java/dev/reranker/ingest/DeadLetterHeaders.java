package dev.reranker.ingest;

/**
 * The dead-letter records' header names (topic and store names: {@link dev.reranker.data.Topics}).
 */
final class DeadLetterHeaders {
  private DeadLetterHeaders() {}

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
