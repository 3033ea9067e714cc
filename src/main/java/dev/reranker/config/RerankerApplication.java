package dev.reranker.config;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.ConfigurableApplicationContext;

/** The service: ingestion (and, from issue 5, reranking over REST). Started by {@code serve}. */
@SpringBootApplication
public class RerankerApplication {

  public static ConfigurableApplicationContext run(String... args) {
    return SpringApplication.run(RerankerApplication.class, args);
  }

  public static void main(String[] args) {
    run(args);
  }
}
