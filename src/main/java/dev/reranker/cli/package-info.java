/**
 * The command-line entry point of the jar ({@code java -jar target/reranker.jar <command>}) and its
 * subcommands. Commands that need no Spring context (benchmarks) run without starting one.
 */
package dev.reranker.cli;
