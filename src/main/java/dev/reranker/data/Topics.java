package dev.reranker.data;

/**
 * Every Kafka topic and state-store name the engine uses, in one place (as the Kafka Streams
 * examples keep theirs). Topic names here are the defaults; a deployment may rename the topics
 * ({@code reranker.ingest.topic}, {@code reranker.ingest.dlq-topic}, {@code
 * reranker.experiments.topic}), never the stores (their changelog topics derive from them).
 */
public final class Topics {
  private Topics() {}

  /** Input: key = userId, value = a JSON event ({@link InteractionJson}). */
  public static final String INTERACTIONS = "interactions";
  /** Dead letters: the original bytes with the reason in headers. */
  public static final String DEAD_LETTERS = "interactions.dlq";
  /** Experiment definitions, compacted: how instances share admin changes. */
  public static final String EXPERIMENTS = "rerank.experiments";
  /** What each request served, for the online outcome join. */
  public static final String EXPOSURES = "rerank.exposures";

  /** State store: per-user history, one record per event plus an extent record (RocksDB). */
  public static final String HISTORY_STORE = "user-history";
  /** State store: performer state snapshots (RocksDB). */
  public static final String SNAPSHOT_STORE = "state-snapshots";
}
