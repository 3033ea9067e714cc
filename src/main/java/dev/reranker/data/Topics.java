package dev.reranker.data;

/**
 * Every Kafka topic and state-store name the engine uses, in one place (as the Kafka Streams
 * examples keep theirs). Topic names here are the defaults; a deployment may rename the topics
 * ({@code reranker.ingest.topic}, {@code reranker.ingest.dlq-topic}, {@code
 * reranker.experiments.topic}, {@code reranker.experiments.exposures-topic}, {@code
 * reranker.experiments.outcomes-topic}), never the stores (their changelog topics derive from them).
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
  /** Each exposure once resolved (hit or miss), for a warehouse: key = userId, JSON value. */
  public static final String OUTCOMES = "rerank.outcomes";

  /** State store: per-user history, one record per event plus an extent record (RocksDB). */
  public static final String HISTORY_STORE = "user-history";
  /** State store: performer state snapshots (RocksDB). */
  public static final String SNAPSHOT_STORE = "state-snapshots";
  /** State store: exposures waiting for the same user's next interaction (the outcome join). */
  public static final String PENDING_EXPOSURES_STORE = "experiment-pending-exposures";
  /**
   * State store: the pending exposures again, ordered by served time (key only), so the sweep
   * reads the expired ones and nothing else.
   */
  public static final String PENDING_BY_SERVED_TIME_STORE = "experiment-pending-by-served-time";
  /**
   * State store: per user with pending exposures, how many and a lower bound on when they were
   * served, so an interaction reads its user's pending range only when there is something in it.
   */
  public static final String PENDING_PER_USER_STORE = "experiment-pending-per-user";
  /** State store: each user's totals per (experiment, arm), the base of the deltas below. */
  public static final String USER_OUTCOMES_STORE = "experiment-user-outcomes";
  /** State store: sufficient statistics per (experiment, arm), constant size. */
  public static final String ARM_AGGREGATES_STORE = "experiment-arm-aggregates";
  /** State store: per (experiment, arm, time bucket) the aggregate as of that bucket (charts). */
  public static final String ARM_SERIES_STORE = "experiment-arm-series";
  /**
   * State store: per reason, how many records of the task's interactions the outcome join did not
   * see because ingestion did not apply them (rejected, repeated event ids).
   */
  public static final String IGNORED_INTERACTIONS_STORE = "experiment-ignored-interactions";
  /** State store: each user's last few interactions, for exposures that arrive after them. */
  public static final String RECENT_INTERACTIONS_STORE = "experiment-recent-interactions";
}
