package dev.reranker.experiment;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * What a user was shown: published to {@code rerank.exposures} (key: the userId, so the topic is
 * co-partitioned with the interactions) and joined with the same user's next interaction to
 * measure the arm online. On the wire: JSON with these fields and {@code schemaVersion} ({@value
 * #SCHEMA_VERSION}).
 *
 * @param requestId unique per request
 * @param experiment the experiment id
 * @param arm the served arm ({@code performer}, {@code softmax}, {@code fallback})
 * @param modelVersion the model version of the state used; null for the fallback order
 * @param served the returned item ids, in rank order
 * @param timestamp when it was served, epoch milliseconds
 * @param tookMs the request's latency, milliseconds
 * @param stateBytes the bytes of the state the arm used (0 for the fallback)
 * @param degraded the fallback order was served for want of time or state
 * @param k the experiment's cut-off k for HR@k and NDCG@k when it was served
 * @param coldStart the user had no history when it was served
 * @param teams for the {@code interleaved} arm, which model arm contributed each served item
 *     ({@code performer} or {@code softmax}, one per item of {@code served}); null otherwise
 * @param cpuMicros CPU time the request used, microseconds: its own thread's, and a worker's
 *     while the request waited for it (work a deadline abandoned is not counted)
 * @param error the request failed after the user was assigned (answered 500; {@code served} is
 *     empty): counted against the arm's error rate, not in its quality metrics
 */
@JsonIgnoreProperties(value = "schemaVersion", allowGetters = true)
public record Exposure(String requestId, String experiment, String userId, ArmChoice arm,
    String modelVersion, List<String> served, long timestamp, double tookMs, long stateBytes,
    boolean degraded, int k, boolean coldStart, List<ArmChoice> teams,
    double cpuMicros, boolean error) {

  /** The record's schema: 1 = these fields. */
  public static final int SCHEMA_VERSION = 1;

  /** A request of this arm that failed: no list was served. */
  public static Exposure failed(String requestId, String experiment, String userId, ArmChoice arm,
      long timestamp, double tookMs, int k) {
    return new Exposure(requestId, experiment, userId, arm, null, List.of(), timestamp, tookMs, 0,
        false, k, false, null, 0, true);
  }

  @JsonProperty("schemaVersion")
  public int schemaVersion() {
    return SCHEMA_VERSION;
  }
}
