/**
 * REST endpoints that rerank a product service's candidate items for a user.
 */
package dev.reranker.serving;
