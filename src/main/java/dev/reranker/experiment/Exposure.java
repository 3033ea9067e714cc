package dev.reranker.experiment;

import java.util.List;

/**
 * What a user was shown: published to {@code rerank.exposures} and joined with their next
 * interaction to measure the arm online.
 *
 * @param served the returned item ids, in rank order
 * @param tookMs the request's latency
 * @param stateBytes the bytes of the state the arm used (0 for the fallback)
 */
public record Exposure(String requestId, String experiment, String userId, ArmChoice arm,
    String modelVersion, List<String> served, long timestamp, double tookMs, long stateBytes,
    boolean degraded) {}
