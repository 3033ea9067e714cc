/**
 * Training of the model in Java: hand-written backward passes, optimiser, loss, checkpoints.
 */
package dev.reranker.training;
