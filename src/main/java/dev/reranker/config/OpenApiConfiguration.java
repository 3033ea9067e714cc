package dev.reranker.config;

import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.info.License;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The OpenAPI document's title, version and description, and the admin API key as a security
 * scheme (Swagger UI's Authorize button) on the operations that need it: those under
 * {@code /admin/} and the state endpoint. Off with the {@code prod} profile, as the UI is.
 */
@Configuration(proxyBeanMethods = false)
class OpenApiConfiguration {

  static final String ADMIN_KEY = "adminApiKey";
  static final String ADMIN_BEARER = "adminBearer";

  @Bean
  OpenAPI rerankerOpenApi() {
    String version = OpenApiConfiguration.class.getPackage().getImplementationVersion();
    return new OpenAPI()
        .info(new Info().title("reranker").version(version == null ? "development" : version)
            .description("Reranks a product service's candidate items for a user with a causal "
                + "Performer (FAVOR+) over the user's whole interaction history, A/B tested "
                + "against exact softmax attention. Reranking and reports are open; admin "
                + "operations need the admin API key (X-Api-Key, or Authorization: Bearer). "
                + "Errors are RFC 9457 problem details (application/problem+json).")
            .license(new License().name("Apache-2.0")
                .url("https://www.apache.org/licenses/LICENSE-2.0")))
        .components(new Components()
            .addSecuritySchemes(ADMIN_KEY, new SecurityScheme().type(SecurityScheme.Type.APIKEY)
                .in(SecurityScheme.In.HEADER).name("X-Api-Key")
                .description("reranker.security.admin-api-key"))
            .addSecuritySchemes(ADMIN_BEARER, new SecurityScheme()
                .type(SecurityScheme.Type.HTTP).scheme("bearer")
                .description("the admin API key as a bearer token")));
  }

  /** The admin key on every operation the security chain guards with it. */
  @Bean
  OpenApiCustomizer adminOperationsNeedTheKey() {
    return api -> api.getPaths().forEach((path, item) -> {
      if (path.startsWith("/admin/") || path.startsWith("/v1/users/")) {
        item.readOperations().forEach(op -> op
            .addSecurityItem(new SecurityRequirement().addList(ADMIN_KEY))
            .addSecurityItem(new SecurityRequirement().addList(ADMIN_BEARER)));
      }
    });
  }
}
