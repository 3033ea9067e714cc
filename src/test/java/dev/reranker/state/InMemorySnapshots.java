package dev.reranker.state;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** Snapshots held in memory (tests, stateless use). Thread-safe. */
public final class InMemorySnapshots implements SnapshotStore {

  private final Map<String, Snapshot> snapshots = new ConcurrentHashMap<>();

  @Override
  public Optional<Snapshot> load(String userId, String modelVersion) {
    return Optional.ofNullable(snapshots.get(modelVersion + "\u0000" + userId));
  }

  @Override
  public void save(String userId, String modelVersion, Snapshot snapshot) {
    snapshots.put(modelVersion + "\u0000" + userId, snapshot);
  }

  public int size() {
    return snapshots.size();
  }
}
