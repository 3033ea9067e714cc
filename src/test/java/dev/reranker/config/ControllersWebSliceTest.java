package dev.reranker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.startsWith;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.get;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.post;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.put;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.content;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.jsonPath;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.reranker.data.EventType;
import dev.reranker.experiment.ArmChoice;
import dev.reranker.experiment.Experiment;
import dev.reranker.experiment.ExperimentRegistry;
import dev.reranker.experiment.Exposure;
import dev.reranker.experiment.ShadowAgreement;
import dev.reranker.model.Arm;
import dev.reranker.serving.ItemPopularity;
import dev.reranker.serving.ModelAdminController;
import dev.reranker.serving.OwnerRouter;
import dev.reranker.serving.RequestGuards;
import dev.reranker.serving.RerankService;
import dev.reranker.serving.Reranker;
import dev.reranker.state.ActiveModel;
import dev.reranker.state.InMemoryHistory;
import dev.reranker.state.ModelRegistry;
import dev.reranker.state.StateCache;
import dev.reranker.state.StateReader;
import dev.reranker.state.UserStates;
import dev.reranker.testing.TestModels;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.security.autoconfigure.SecurityAutoConfiguration;
import org.springframework.boot.security.autoconfigure.web.servlet.SecurityFilterAutoConfiguration;
import org.springframework.boot.security.autoconfigure.web.servlet.ServletWebSecurityAutoConfiguration;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.boot.webmvc.test.autoconfigure.WebMvcTest;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.MockMvc;

/**
 * The controllers in a web slice: Spring MVC, the problem+json handling, the request guards and
 * the real security rules, over a real state engine on an in-memory history (no Kafka, no
 * server). What a request may send, what it gets back when it sends something wrong, and who may
 * call what.
 */
@WebMvcTest(properties = {"reranker.security.admin-api-key=" + ControllersWebSliceTest.KEY,
    "reranker.serving.max-body-bytes=4096"})
@ImportAutoConfiguration({SecurityAutoConfiguration.class,
    ServletWebSecurityAutoConfiguration.class, SecurityFilterAutoConfiguration.class})
@Import({SecurityConfiguration.class, ControllersWebSliceTest.Engine.class})
class ControllersWebSliceTest {

  static final String KEY = "slice-test-key";
  static final String CLUSTER_KEY = "slice-cluster-key";
  static final String JSON = MediaType.APPLICATION_JSON_VALUE;
  static final String PROBLEM = "application/problem+json";

  /** The engine behind the controllers: real parts, in memory. */
  @TestConfiguration(proxyBeanMethods = false)
  @EnableConfigurationProperties(RerankerProperties.class)
  static class Engine {
    @Bean
    InMemoryHistory history() {
      InMemoryHistory h = new InMemoryHistory(10_000);
      for (int i = 0; i < 12; i++) {
        h.append("u1", "i" + (i * 5 % TestModels.ITEMS), 1_000L * (i + 1), EventType.VIEW);
      }
      return h;
    }

    @Bean
    ModelRegistry models() {
      return new ModelRegistry(Map.of(Arm.PERFORMER, new ActiveModel(TestModels.model(
          Arm.PERFORMER, 3)), Arm.SOFTMAX, new ActiveModel(TestModels.model(Arm.SOFTMAX, 4))));
    }

    @Bean
    UserStates userStates(ModelRegistry models) {
      return new UserStates(models, new StateCache(16L << 20, null, Ticker.systemTicker()),
          Clock.systemUTC(), UserStates.Settings.defaults(), null);
    }

    @Bean
    StateReader stateReader(UserStates states, InMemoryHistory history) {
      return states.reader(() -> states.session(history, null));
    }

    @Bean(destroyMethod = "shutdownNow")
    ExecutorService workers() {
      return Executors.newFixedThreadPool(2);
    }

    @Bean
    ExperimentRegistry experiments() {
      return new ExperimentRegistry(List.of(Experiment.standard(Experiment.DEFAULT_ID),
          Experiment.create("all-softmax", null, Map.of(ArmChoice.SOFTMAX, 1.0), false, 5)),
          Experiment.DEFAULT_ID);
    }

    @Bean
    ShadowAgreement shadowAgreement() {
      return new ShadowAgreement();
    }

    /** No Kafka Streams in a slice: the distributed report answers 503. */
    @Bean
    dev.reranker.serving.ExperimentAggregates experimentAggregates() {
      return new dev.reranker.serving.ExperimentAggregates(() -> null, "rerank.exposures", null,
          java.time.Duration.ofSeconds(1));
    }

    @Bean
    dev.reranker.experiment.AggregateReport.Settings reportSettings() {
      return dev.reranker.experiment.AggregateReport.Settings.defaults();
    }

    @Bean
    List<Exposure> published() {
      return new CopyOnWriteArrayList<>();
    }

    @Bean
    RerankService rerankService(StateReader states, ExecutorService workers,
        ExperimentRegistry experiments, ShadowAgreement shadow, List<Exposure> published) {
      return new RerankService(new Reranker(states, new ItemPopularity(), workers), experiments,
          shadow, published::add, new SimpleMeterRegistry(), Duration.ofSeconds(5),
          Clock.systemUTC());
    }

    @Bean
    dev.reranker.serving.ClusterKey clusterKey() {
      return new dev.reranker.serving.ClusterKey(CLUSTER_KEY);
    }

    @Bean
    OwnerRouter ownerRouter() {
      return OwnerRouter.over(() -> null, null, clusterKey());
    }

    @Bean
    ModelAdminController.Library library() {
      return new ModelAdminController.Library(null);
    }

    @Bean
    FilterRegistrationBean<RequestGuards> requestGuards(RerankerProperties p) {
      FilterRegistrationBean<RequestGuards> bean = new FilterRegistrationBean<>(
          new RequestGuards(p.serving().maxBodyBytes(), p.serving().maxConcurrentRequests()));
      bean.addUrlPatterns("/*");
      bean.setOrder(-200);
      return bean;
    }
  }

  @Autowired
  MockMvc mvc;
  @Autowired
  List<Exposure> published;

  /** Issue 18, 3: the instances' endpoint needs the cluster key, and only it. */
  @Test
  void internalEndpointsNeedTheClusterKeyNotTheAdminKey() throws Exception {
    String path = "/internal/experiments/default/aggregates";
    mvc.perform(get(path)).andExpect(status().isUnauthorized())
        .andExpect(content().contentTypeCompatibleWith("application/problem+json"));
    mvc.perform(get(path).header("X-Api-Key", KEY)).andExpect(status().isForbidden());
    mvc.perform(get(path).header("X-Reranker-Cluster-Key", "wrong"))
        .andExpect(status().isUnauthorized());
    // with the key it is let through: no Kafka Streams in a slice, so 503
    mvc.perform(get(path).header("X-Reranker-Cluster-Key", CLUSTER_KEY))
        .andExpect(status().isServiceUnavailable());
    // and the cluster key opens nothing else
    mvc.perform(get("/admin/models").header("X-Reranker-Cluster-Key", CLUSTER_KEY))
        .andExpect(status().isForbidden());
  }

  @Test
  void aValidRerankIsAnsweredByTheAssignedArmAndItsExposureRecorded() throws Exception {
    mvc.perform(post("/v1/rerank").contentType(JSON).content(
            "{\"userId\":\"u1\",\"candidates\":[\"i1\",\"i2\",\"nope\"],\"k\":3,"
                + "\"experiment\":\"all-softmax\"}"))
        .andExpect(status().isOk())
        .andExpect(content().contentTypeCompatibleWith(MediaType.APPLICATION_JSON))
        .andExpect(jsonPath("$.arm").value("softmax"))
        .andExpect(jsonPath("$.experiment").value("all-softmax"))
        .andExpect(jsonPath("$.statePosition").value(12))
        .andExpect(jsonPath("$.items.length()").value(3))
        .andExpect(jsonPath("$.items[2].itemId").value("nope"))
        .andExpect(jsonPath("$.items[2].fallback").value(true))
        .andExpect(jsonPath("$.degraded").value(false));
    assertThat(published).anySatisfy(e -> {
      assertThat(e.arm()).isEqualTo(ArmChoice.SOFTMAX);
      assertThat(e.userId()).isEqualTo("u1");
    });
  }

  @Test
  void invalidFieldsAre400ProblemsNamingTheField() throws Exception {
    mvc.perform(post("/v1/rerank").contentType(JSON).content("{\"candidates\":[\"i1\"]}"))
        .andExpect(status().isBadRequest())
        .andExpect(content().contentTypeCompatibleWith(PROBLEM))
        .andExpect(jsonPath("$.type").value("https://reranker.dev/problems/invalid-field"))
        .andExpect(jsonPath("$.title").value("Bad Request"))
        .andExpect(jsonPath("$.status").value(400))
        .andExpect(jsonPath("$.field").value("userId"));
    mvc.perform(post("/v1/rerank").contentType(JSON).content(
            "{\"userId\":\"u1\",\"candidates\":[\"i1\",\"i1\"]}"))
        .andExpect(status().isBadRequest())
        .andExpect(jsonPath("$.field").value("candidates[1]"));
    mvc.perform(post("/v1/rerank").contentType(JSON).header("X-Deadline-Ms", "0")
            .content("{\"userId\":\"u1\",\"candidates\":[\"i1\"]}"))
        .andExpect(status().isBadRequest())
        .andExpect(jsonPath("$.field").value("X-Deadline-Ms"));
    mvc.perform(post("/v1/rerank").contentType(JSON).content("{\"userId\":"))
        .andExpect(status().isBadRequest())
        .andExpect(content().contentTypeCompatibleWith(PROBLEM))
        .andExpect(jsonPath("$.type").value("https://reranker.dev/problems/unreadable-body"));
  }

  @Test
  void unknownThingsAre404Problems() throws Exception {
    mvc.perform(post("/v1/rerank").contentType(JSON).content(
            "{\"userId\":\"u1\",\"candidates\":[\"i1\"],\"experiment\":\"nope\"}"))
        .andExpect(status().isNotFound())
        .andExpect(content().contentTypeCompatibleWith(PROBLEM))
        .andExpect(jsonPath("$.type").value("https://reranker.dev/problems/not-found"))
        .andExpect(jsonPath("$.title").value("Not Found"))
        .andExpect(jsonPath("$.field").value("experiment"));
    mvc.perform(get("/v1/experiments/nope/report"))
        .andExpect(status().isNotFound())
        .andExpect(jsonPath("$.field").value("id"));
    mvc.perform(post("/admin/models/nope/activate").header("X-Api-Key", KEY))
        .andExpect(status().isNotFound())
        .andExpect(jsonPath("$.field").value("version"));
    mvc.perform(get("/v1/users/nobody/state").header("X-Api-Key", KEY))
        .andExpect(status().isNotFound())
        .andExpect(jsonPath("$.field").value("userId"));
  }

  @Test
  void guardsAnswerInProblemJsonBeforeMvc() throws Exception {
    mvc.perform(post("/v1/rerank").contentType(JSON).content("{\"userId\":\"u1\",\"candidates\":["
            + "\"" + "x".repeat(5000) + "\"]}"))
        .andExpect(status().is(413))
        .andExpect(content().contentTypeCompatibleWith(PROBLEM))
        .andExpect(jsonPath("$.field").value("body"));
    mvc.perform(post("/v1/rerank").contentType("*/*").content("{}"))
        .andExpect(status().is(415))
        .andExpect(jsonPath("$.type")
            .value("https://reranker.dev/problems/unsupported-media-type"));
  }

  @Test
  void adminEndpointsAndTheStateEndpointNeedTheKey() throws Exception {
    String change = "{\"weights\":{\"performer\":1}}";
    mvc.perform(put("/admin/experiments/new-one").contentType(JSON).content(change))
        .andExpect(status().isUnauthorized())
        .andExpect(content().contentTypeCompatibleWith(PROBLEM))
        .andExpect(jsonPath("$.title").value("Unauthorized"))
        .andExpect(jsonPath("$.detail", startsWith("this endpoint needs the admin API key")));
    mvc.perform(put("/admin/experiments/new-one").contentType(JSON).content(change)
            .header("X-Api-Key", "wrong"))
        .andExpect(status().isUnauthorized());
    mvc.perform(put("/admin/experiments/new-one").contentType(JSON).content(change)
            .header("Authorization", "Bearer " + KEY))
        .andExpect(status().isOk())
        .andExpect(jsonPath("$.id").value("new-one"));
    mvc.perform(get("/admin/models")).andExpect(status().isUnauthorized());
    mvc.perform(get("/admin/models").header("X-Api-Key", KEY))
        .andExpect(status().isOk())
        .andExpect(jsonPath("$.active.performer").exists())
        .andExpect(jsonPath("$.backends.performer").value(org.hamcrest.Matchers.startsWith(
            "nd4j: CPU (ND4J")))
        .andExpect(jsonPath("$.attentionOnly").value(false))
        .andExpect(jsonPath("$.convertedFrom").isEmpty());
    mvc.perform(get("/v1/users/u1/state")).andExpect(status().isUnauthorized());
    mvc.perform(get("/v1/users/u1/state").header("X-Api-Key", KEY))
        .andExpect(status().isOk())
        .andExpect(jsonPath("$.arms.length()").value(2))
        .andExpect(jsonPath("$.arms[0].historyPosition").value(12));
    // reports and reranking stay open (the distributed report needs Kafka Streams: 503 here,
    // not 401)
    // the in-memory local report is gone: the durable report is the only one
    mvc.perform(get("/v1/experiments/default/report/local")).andExpect(status().isNotFound());
    mvc.perform(get("/v1/experiments/default/report"))
        .andExpect(status().isServiceUnavailable())
        .andExpect(content().contentTypeCompatibleWith("application/problem+json"));
    // the instances' endpoint is not open (issue 18, 3): internalEndpointsNeedTheClusterKey…
    mvc.perform(get("/internal/experiments/default/aggregates"))
        .andExpect(status().isUnauthorized());
  }

  @Test
  void invalidAdminChangesAre400Problems() throws Exception {
    mvc.perform(put("/admin/experiments/bad id").contentType(JSON).header("X-Api-Key", KEY)
            .content("{\"weights\":{\"performer\":1}}"))
        .andExpect(status().isBadRequest())
        .andExpect(jsonPath("$.field").value("id"));
    mvc.perform(put("/admin/experiments/x").contentType(JSON).header("X-Api-Key", KEY)
            .content("{\"weights\":{\"bandit\":1}}"))
        .andExpect(status().isBadRequest())
        .andExpect(jsonPath("$.field").value("weights"));
    mvc.perform(put("/admin/experiments/x").contentType(JSON).header("X-Api-Key", KEY)
            .content("{\"weights\":{\"performer\":1},\"k\":0}"))
        .andExpect(status().isBadRequest())
        .andExpect(jsonPath("$.field").value("k"));
  }
}
