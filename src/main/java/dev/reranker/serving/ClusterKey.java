package dev.reranker.serving;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * The key instances of one deployment present to each other ({@value #HEADER}): on the internal
 * endpoints ({@code /internal/**}, a report's per-instance aggregates) and on a rerank request
 * forwarded to the user's owner, whose forwarded mark is only honoured with it (without it, a
 * caller could make any instance skip routing). Separate from the admin key: a leaked cluster key
 * reads aggregates, it changes nothing. Compared in constant time.
 */
public final class ClusterKey {

  /** The header that carries it. */
  public static final String HEADER = "X-Reranker-Cluster-Key";

  private final String value;
  private final byte[] bytes;

  public ClusterKey(String value) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException("the cluster key must not be empty");
    }
    this.value = value;
    this.bytes = value.getBytes(StandardCharsets.UTF_8);
  }

  /** Whether {@code given} (a header's value, may be null) is the key. */
  public boolean matches(String given) {
    return given != null && MessageDigest.isEqual(bytes, given.getBytes(StandardCharsets.UTF_8));
  }

  /** The key, to send. */
  String value() {
    return value;
  }

  @Override
  public String toString() {
    return "ClusterKey[****]";
  }
}
