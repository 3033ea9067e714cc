/**
 * A/B experiments between the Performer and the exact-softmax baseline: assignment, exposures,
 * online metrics and reports.
 */
package dev.reranker.experiment;
