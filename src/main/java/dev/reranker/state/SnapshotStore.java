package dev.reranker.state;

import java.util.Optional;

/**
 * Durable snapshots of performer states. A FAVOR+ state is a fold over the user's <em>whole</em>
 * history, which outlives the retained history; a snapshot plus the retained events after it
 * rebuilds it exactly.
 */
public interface SnapshotStore {

  /**
   * A snapshot.
   *
   * @param historyPosition history events consumed by the state (including events whose item the
   *     model does not know, which are skipped)
   * @param state {@code EncoderState.toBytes()}
   */
  record Snapshot(long historyPosition, byte[] state) {}

  Optional<Snapshot> load(String userId, String modelVersion);

  void save(String userId, String modelVersion, Snapshot snapshot);
}
