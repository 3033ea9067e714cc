/**
 * Kafka Streams ingestion of user interactions: validation, dead-letter topic, deduplication,
 * history store, and folding new events into per-user encoder states.
 */
package dev.reranker.ingest;
