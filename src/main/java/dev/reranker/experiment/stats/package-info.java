/**
 * The statistics experiments are decided with, as constant-size, mergeable sufficient statistics:
 * user-level ratio metrics with delta-method variances ({@link
 * dev.reranker.experiment.stats.UserMoments}), fixed-horizon and always-valid sequential
 * comparisons, minimum detectable effects ({@link dev.reranker.experiment.stats.Comparison}),
 * the sample-ratio-mismatch test ({@link dev.reranker.experiment.stats.SampleRatio}) and the
 * distribution functions behind them. No Spring, no Kafka; calibrated by simulation in the tests.
 */
package dev.reranker.experiment.stats;
