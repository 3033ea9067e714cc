package dev.reranker.experiment;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * An exposure once the outcome join has resolved it: emitted to {@code rerank.outcomes} (key: the
 * userId) so that a warehouse job can recompute every report from records alone. On the wire:
 * JSON with these fields and {@code schemaVersion} ({@value #SCHEMA_VERSION}).
 *
 * @param requestId the exposure's request id
 * @param experiment the experiment id
 * @param userId the user
 * @param arm the served arm
 * @param rank the 1-based position of the interacted item in the served list; 0 when the item was
 *     not in it, or when the exposure reached the horizon without an interaction
 * @param k the experiment's cut-off when it was served (a hit is {@code 1 ≤ rank ≤ k})
 * @param itemId the item of the resolving interaction; null when resolved at the horizon
 * @param servedAt when it was served, epoch milliseconds
 * @param resolvedAt the resolving interaction's time, or when the horizon sweep resolved it,
 *     epoch milliseconds
 * @param expired resolved as a miss because the horizon passed without an interaction
 * @param tookMs the request's latency, milliseconds
 * @param stateBytes the bytes of the state the arm used
 * @param degraded the fallback order was served for want of time or state
 * @param credited the interleaved arm: the model arm whose item the interaction was; null when
 *     none (not interleaved, not a served item, or at the horizon)
 */
@JsonIgnoreProperties(value = "schemaVersion", allowGetters = true)
public record ResolvedOutcome(String requestId, String experiment, String userId, ArmChoice arm,
    int rank, int k, String itemId, long servedAt, long resolvedAt, boolean expired,
    double tookMs, long stateBytes, boolean degraded, ArmChoice credited) {

  /** The record's schema: 1 = these fields. */
  public static final int SCHEMA_VERSION = 1;

  @JsonProperty("schemaVersion")
  public int schemaVersion() {
    return SCHEMA_VERSION;
  }

  static ResolvedOutcome of(Exposure e, Resolution r) {
    return new ResolvedOutcome(e.requestId(), e.experiment(), e.userId(), e.arm(), r.rank(),
        e.k(), r.itemId(), e.timestamp(), r.at(), r.expired(), e.tookMs(), e.stateBytes(),
        e.degraded(), r.team());
  }
}
