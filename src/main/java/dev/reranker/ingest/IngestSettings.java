package dev.reranker.ingest;

import dev.reranker.data.Topics;
import dev.reranker.model.Arm;
import java.time.Duration;
import java.util.Set;

/**
 * Ingestion settings (bound from {@code reranker.ingest.*} by the service).
 *
 * @param interactionsTopic input topic
 * @param dlqTopic dead-letter topic
 * @param historyLimit events retained per user; 10,000 by default
 * @param futureTolerance events timestamped further ahead of the wall clock are rejected
 * @param maxRecordBytes larger record values are rejected before parsing
 * @param dlqMaxValueBytes a dead-lettered value longer than this is cut to it (64 KiB by default;
 *     the Streams producer's request limit is 1 MiB)
 * @param microBatchEvents fold pending users' states once this many events are pending
 * @param flushInterval … or at least this often (wall clock)
 * @param eagerArms arms whose states are folded as events arrive (others catch up when read)
 */
public record IngestSettings(String interactionsTopic, String dlqTopic, int historyLimit,
    Duration futureTolerance, int maxRecordBytes, int dlqMaxValueBytes, int microBatchEvents,
    Duration flushInterval, Set<Arm> eagerArms) {

  public IngestSettings {
    if (historyLimit < 2 || maxRecordBytes < 64 || microBatchEvents < 1 || dlqMaxValueBytes < 0
        || dlqMaxValueBytes > 512 * 1024) {
      throw new IllegalArgumentException("invalid ingest settings: " + this);
    }
    eagerArms = Set.copyOf(eagerArms);
  }

  /** The defaults (the service's too: {@code reranker.ingest.*} falls back to these). */
  public static IngestSettings defaults() {
    return new IngestSettings(Topics.INTERACTIONS, Topics.DEAD_LETTERS, 10_000,
        Duration.ofMinutes(5), 16 * 1024, 64 * 1024, 2048, Duration.ofMillis(50),
        Set.of(Arm.PERFORMER));
  }

  public IngestSettings withHistoryLimit(int limit) {
    return new IngestSettings(interactionsTopic, dlqTopic, limit, futureTolerance, maxRecordBytes,
        dlqMaxValueBytes, microBatchEvents, flushInterval, eagerArms);
  }
}
