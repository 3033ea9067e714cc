/**
 * Per-user encoder prefix states: the Caffeine cache keyed by (user, arm), weighed by exact byte size,
 * and their durable snapshots.
 */
package dev.reranker.state;
