/**
 * Readers for interaction data (MovieLens, SASRec text, the project's JSONL events), preprocessing
 * (chronological order, k-core filtering, id maps) and a synthetic generator with long-range structure.
 */
package dev.reranker.data;
