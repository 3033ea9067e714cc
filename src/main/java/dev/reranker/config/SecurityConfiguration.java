package dev.reranker.config;

import dev.reranker.serving.Problems;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.authentication.AnonymousAuthenticationFilter;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Admin endpoints (experiment changes, model activation) and actuator endpoints other than health,
 * info and prometheus need the admin API key, sent as {@code X-Api-Key: <key>} or
 * {@code Authorization: Bearer <key>}. {@code /internal/**} (one instance asking another for its
 * partitions' aggregates) needs the cluster key instead ({@code X-Reranker-Cluster-Key}). Reranking,
 * reports and the API documentation (without the internal paths; off in the {@code prod} profile)
 * are open. Who can call what: docs/security.md.
 * Stateless (no sessions, no CSRF tokens: no cookies are used).
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
class SecurityConfiguration {

  private static final Logger log = LoggerFactory.getLogger(SecurityConfiguration.class);

  /**
   * The reranking hot path: open, stateless, no sessions or request caching, so only the filters
   * that matter run (the rest cost a measurable share of a sub-millisecond request).
   */
  @Bean
  @Order(1)
  SecurityFilterChain rerankFilterChain(HttpSecurity http) throws Exception {
    http.securityMatcher("/v1/rerank", "/v1/transport-probe")
        .csrf(c -> c.disable())
        .logout(l -> l.disable())
        .requestCache(r -> r.disable())
        .anonymous(a -> a.disable())
        .sessionManagement(s -> s.disable())
        .servletApi(s -> s.disable())
        .httpBasic(b -> b.disable())
        .formLogin(f -> f.disable())
        .authorizeHttpRequests(a -> a.anyRequest().permitAll());
    return http.build();
  }

  @Bean
  @Order(2)
  SecurityFilterChain securityFilterChain(HttpSecurity http, RerankerProperties properties,
      dev.reranker.serving.ClusterKey clusterKey) throws Exception {
    String key = properties.security().adminApiKey();
    if (key == null || key.isBlank()) {
      key = UUID.randomUUID().toString();
      log.warn("no reranker.security.admin-api-key configured; generated admin API key for this "
          + "run: {}", key);
    }
    http.csrf(c -> c.disable())
        .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
        .httpBasic(b -> b.disable())
        .formLogin(f -> f.disable())
        .addFilterBefore(new ApiKeyFilter(key, clusterKey), AnonymousAuthenticationFilter.class)
        .authorizeHttpRequests(a -> {
          a.requestMatchers("/admin/**").hasRole("ADMIN");
          // instance to instance only: the cluster key, not the admin key
          a.requestMatchers("/internal/**").hasRole("CLUSTER");
          if (!properties.serving().publicStateEndpoint()) { // else open, as anyRequest below
            a.requestMatchers("/v1/users/*/state").hasRole("ADMIN");
          }
          a.requestMatchers("/actuator/health", "/actuator/health/**", "/actuator/info",
                "/actuator/prometheus").permitAll()
            .requestMatchers("/actuator/**").hasRole("ADMIN")
            .anyRequest().permitAll();
        })
        .exceptionHandling(e -> e
            .authenticationEntryPoint((req, res, ex) -> problem(res, 401, "unauthorized",
                req.getRequestURI().startsWith("/internal/")
                    ? "this endpoint is for the engine's own instances (the cluster key)"
                    : "this endpoint needs the admin API key (X-Api-Key or Authorization: "
                        + "Bearer)"))
            .accessDeniedHandler((req, res, ex) -> problem(res, 403, "forbidden",
                "not allowed")));
    return http.build();
  }

  private static void problem(HttpServletResponse res, int status, String type, String detail)
      throws IOException {
    Problems.write(res, status, type, detail, null);
  }

  /**
   * Authenticates requests that carry the admin API key (role ADMIN) or the cluster key (role
   * CLUSTER); compares in constant time.
   */
  static final class ApiKeyFilter extends OncePerRequestFilter {
    private final byte[] key;
    private final dev.reranker.serving.ClusterKey clusterKey;

    ApiKeyFilter(String key, dev.reranker.serving.ClusterKey clusterKey) {
      this.key = key.getBytes(StandardCharsets.UTF_8);
      this.clusterKey = clusterKey;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response,
        FilterChain chain) throws ServletException, IOException {
      String given = request.getHeader("X-Api-Key");
      String auth = request.getHeader("Authorization");
      if (given == null && auth != null && auth.startsWith("Bearer ")) {
        given = auth.substring("Bearer ".length()).trim();
      }
      if (given != null && MessageDigest.isEqual(key, given.getBytes(StandardCharsets.UTF_8))) {
        SecurityContextHolder.getContext().setAuthentication(
            UsernamePasswordAuthenticationToken.authenticated("admin", null,
                List.of(new SimpleGrantedAuthority("ROLE_ADMIN"))));
      } else if (clusterKey.matches(request.getHeader(dev.reranker.serving.ClusterKey.HEADER))) {
        SecurityContextHolder.getContext().setAuthentication(
            UsernamePasswordAuthenticationToken.authenticated("instance", null,
                List.of(new SimpleGrantedAuthority("ROLE_CLUSTER"))));
      }
      chain.doFilter(request, response);
    }
  }
}
