/**
 * Benchmark commands: each prints a table and writes one JSON object. Speed and memory targets are
 * checked here, never in timed unit tests.
 */
package dev.reranker.bench;
