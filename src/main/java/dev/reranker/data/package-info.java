/**
 * Readers for interaction data (MovieLens, SASRec text, the project's JSONL events), preprocessing
 * (chronological order, k-core filtering, id maps) and synthetic generators with long-range
 * structure (episodes; items recurring with long periods, the long-range task).
 */
package dev.reranker.data;
