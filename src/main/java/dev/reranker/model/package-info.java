/**
 * The sequential recommender built on the attention kernels: configuration, weights, the batched
 * encoder and the incremental per-user encoder state. Core math: no Spring, no Kafka.
 */
package dev.reranker.model;
