/**
 * Spring configuration of the service: properties classes and bean wiring.
 */
package dev.reranker.config;
