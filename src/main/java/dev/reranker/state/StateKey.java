package dev.reranker.state;

import dev.reranker.model.Arm;
import java.util.Objects;

/** A cache key: one user's state for one arm. */
public record StateKey(String userId, Arm arm) {
  public StateKey {
    Objects.requireNonNull(userId, "userId");
    Objects.requireNonNull(arm, "arm");
  }
}
