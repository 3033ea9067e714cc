package dev.reranker.config;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.ConfigurableApplicationContext;

/** The service: ingestion, reranking over REST, experiments. Started by {@code serve}. */
@SpringBootApplication(scanBasePackages = "dev.reranker",
    exclude = org.springframework.boot.security.autoconfigure.UserDetailsServiceAutoConfiguration.class)
public class RerankerApplication {

  public static ConfigurableApplicationContext run(String... args) {
    return SpringApplication.run(RerankerApplication.class, args);
  }

  public static void main(String[] args) {
    run(args);
  }
}
