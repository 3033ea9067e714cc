package dev.reranker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * {@code k8s/} as {@code kubectl kustomize} renders it: every resource valid against the
 * Kubernetes API schema (the generated models of the official Java client, API 1.32: unknown
 * fields, missing required fields and wrong types are refused), and the properties the engine
 * relies on — the disruption budget selects the pods, the grace period covers the drain, the
 * memory limit covers every bounded part of the process, the forwarding names resolve through the
 * headless Service. Needs {@code kubectl} (Debian's kubernetes-client; {@code .ci/run} installs
 * it and sets {@code RERANKER_REQUIRE_KUBECTL=1}, so CI never skips this).
 */
class KubernetesManifestsTest {

  private static final Map<String, Validator> SCHEMAS = Map.of(
      "ConfigMap", io.kubernetes.client.openapi.models.V1ConfigMap::validateJsonElement,
      "Service", io.kubernetes.client.openapi.models.V1Service::validateJsonElement,
      "StatefulSet", io.kubernetes.client.openapi.models.V1StatefulSet::validateJsonElement,
      "PodDisruptionBudget",
      io.kubernetes.client.openapi.models.V1PodDisruptionBudget::validateJsonElement,
      "PersistentVolumeClaim",
      io.kubernetes.client.openapi.models.V1PersistentVolumeClaim::validateJsonElement);

  interface Validator {
    void validate(JsonElement json) throws IOException;
  }

  private static List<Map<String, Object>> resources;

  @BeforeAll
  static void render() throws Exception {
    boolean required = "1".equals(System.getenv("RERANKER_REQUIRE_KUBECTL"));
    boolean present = Files.isExecutable(Path.of("/usr/bin/kubectl"))
        || Files.isExecutable(Path.of("/usr/local/bin/kubectl"));
    if (!present && !required) {
      assumeTrue(false, "kubectl is not installed (apt-get install kubernetes-client): the "
          + "manifests are not rendered; CI installs it and runs this test");
    }
    Process p = new ProcessBuilder("kubectl", "kustomize", "k8s").redirectErrorStream(true)
        .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("kubectl kustomize k8s: " + out).isZero();
    resources = new ArrayList<>();
    for (Object doc : new Yaml().loadAll(out)) {
      if (doc != null) {
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) doc;
        resources.add(m);
      }
    }
  }

  @Test
  void everyResourceIsValidAgainstTheKubernetesSchema() throws IOException {
    assertThat(resources).extracting(r -> r.get("kind")).containsExactlyInAnyOrder(
        "ConfigMap", "Service", "Service", "StatefulSet", "PodDisruptionBudget",
        "PersistentVolumeClaim");
    Gson gson = new Gson();
    for (Map<String, Object> r : resources) {
      Validator v = SCHEMAS.get((String) r.get("kind"));
      assertThat(v).as("a schema for " + r.get("kind")).isNotNull();
      v.validate(gson.toJsonTree(r)); // throws with the offending field named
    }
  }

  @Test
  void theValidatorRefusesWhatKubectlApplyWouldRefuse() {
    Gson gson = new Gson();
    Map<String, Object> bad = new LinkedHashMap<>(find("PodDisruptionBudget"));
    Map<String, Object> spec = new LinkedHashMap<>(map(bad, "spec"));
    spec.put("maxUnavailabel", 1); // a typo
    bad.put("spec", spec);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> SCHEMAS.get("PodDisruptionBudget")
        .validate(gson.toJsonTree(bad))).hasMessageContaining("maxUnavailabel");
    Map<String, Object> noName = new LinkedHashMap<>(find("StatefulSet"));
    Map<String, Object> s = new LinkedHashMap<>(map(noName, "spec"));
    s.remove("selector"); // required
    noName.put("spec", s);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> SCHEMAS.get("StatefulSet")
        .validate(gson.toJsonTree(noName))).hasMessageContaining("selector");
  }

  @Test
  void theDisruptionBudgetSelectsThePodsAndAllowsOneAway() {
    Map<String, Object> podLabels = map(map(map(find("StatefulSet"), "spec"), "template"),
        "metadata");
    Map<String, Object> pdb = map(find("PodDisruptionBudget"), "spec");
    assertThat(map(map(pdb, "selector"), "matchLabels")).isEqualTo(map(podLabels, "labels"));
    assertThat(pdb.get("maxUnavailable")).isEqualTo(1);
  }

  @Test
  void theGracePeriodCoversPreStopDrainExposuresAndTheStreamsClose() throws Exception {
    Map<String, Object> pod = map(map(map(find("StatefulSet"), "spec"), "template"), "spec");
    int grace = (Integer) pod.get("terminationGracePeriodSeconds");
    Map<String, Object> container = container();
    int preStop = (Integer) map(map(map(container, "lifecycle"), "preStop"), "sleep")
        .get("seconds");
    Map<String, Object> app = new Yaml().load(Files.readString(
        Path.of("src/main/resources/application.yml")));
    Duration drain = Duration.parse("PT" + map(map(app, "spring"), "lifecycle")
        .get("timeout-per-shutdown-phase").toString().toUpperCase());
    assertThat(map(app, "server").get("shutdown")).isEqualTo("graceful");
    long streamsClose = org.springframework.kafka.config.StreamsBuilderFactoryBean
        .DEFAULT_CLOSE_TIMEOUT.toSeconds();
    long exposures = 5; // ExposurePublisher.close()
    assertThat(grace).isGreaterThan((int) (preStop + drain.toSeconds() + exposures
        + streamsClose));
  }

  @Test
  void theMemoryLimitCoversEveryBoundedPartOfTheProcess() {
    Map<String, Object> c = container();
    Map<String, Object> limits = map(map(c, "resources"), "limits");
    Map<String, Object> requests = map(map(c, "resources"), "requests");
    assertThat(requests.get("memory")).as("Guaranteed: requests = limits")
        .isEqualTo(limits.get("memory"));
    long limit = mebibytes(limits.get("memory").toString());
    String opts = env(c, "JAVA_TOOL_OPTIONS");
    long heap = flag(opts, "-Xmx(\\d+)m");
    long direct = flag(opts, "-XX:MaxDirectMemorySize=(\\d+)m");
    long metaspace = flag(opts, "-XX:MaxMetaspaceSize=(\\d+)m");
    long code = flag(opts, "-XX:ReservedCodeCacheSize=(\\d+)m");
    long javacpp = flag(opts, "-Dorg.bytedeco.javacpp.maxbytes=(\\d+)m");
    Map<String, Object> config = new Yaml().load(map(find("ConfigMap"), "data")
        .get("application.yml").toString());
    Map<String, Object> streams = map(map(map(config, "spring"), "kafka"), "streams");
    long rocksdb = ((Number) map(streams, "properties").get("[reranker.rocksdb.memory-bytes]"))
        .longValue() >> 20;
    long cache = ((Number) map(map(config, "reranker"), "state").get("cache-max-bytes"))
        .longValue() >> 20;
    assertThat(cache).as("the state cache lives on the heap").isLessThan(heap / 2);
    long bounded = heap + direct + metaspace + code + javacpp + rocksdb;
    // threads, GC structures, malloc arenas: not bounded by a flag; 256 MiB of margin at least
    assertThat(limit).as("limit vs bounded parts %d MiB", bounded).isGreaterThanOrEqualTo(
        bounded + 256);
    assertThat(env(c, "MALLOC_ARENA_MAX")).isEqualTo("2");
  }

  @Test
  void probesAndForwardingNamesPointAtWhatExists() {
    Map<String, Object> c = container();
    assertThat(map(map(c, "readinessProbe"), "httpGet").get("path"))
        .isEqualTo("/actuator/health/readiness");
    assertThat(map(map(c, "livenessProbe"), "httpGet").get("path"))
        .isEqualTo("/actuator/health/liveness");
    String serviceName = (String) map(find("StatefulSet"), "spec").get("serviceName");
    Map<String, Object> headless = resources.stream().filter(r -> r.get("kind")
        .equals("Service") && map(r, "metadata").get("name").equals(serviceName)).findFirst()
        .orElseThrow();
    assertThat(map(headless, "spec").get("clusterIP")).isEqualTo("None");
    assertThat(env(c, "SPRING_KAFKA_STREAMS_PROPERTIES_APPLICATION_SERVER"))
        .isEqualTo("$(POD_NAME)." + serviceName + ":8080");
  }

  @Test
  @SuppressWarnings("unchecked")
  void theModelsComeFromTheSharedVolumeAtThePathsComposeUses() throws IOException {
    // the configmap's application.yml names the models …
    Map<String, Object> config = new Yaml().load(
        (String) map(find("ConfigMap"), "data").get("application.yml"));
    Map<String, Object> models = map(map(config, "reranker"), "models");
    // … under a read-only mount of the models claim …
    List<Map<String, Object>> mounts = (List<Map<String, Object>>) container().get("volumeMounts");
    Map<String, Object> mount = mounts.stream()
        .filter(m -> ((String) models.get("performer")).startsWith(m.get("mountPath") + "/"))
        .findFirst().orElseThrow(() -> new AssertionError("no volume mounted above "
            + models.get("performer")));
    assertThat(mount.get("readOnly")).isEqualTo(true);
    for (String key : List.of("performer", "softmax", "library")) {
      assertThat((String) models.get(key)).as(key)
          .startsWith((String) mount.get("mountPath"));
    }
    Map<String, Object> pod = map(map(map(find("StatefulSet"), "spec"), "template"), "spec");
    Map<String, Object> volume = ((List<Map<String, Object>>) pod.get("volumes")).stream()
        .filter(v -> v.get("name").equals(mount.get("name"))).findFirst().orElseThrow();
    String claim = (String) map(volume, "persistentVolumeClaim").get("claimName");
    Map<String, Object> pvc = find("PersistentVolumeClaim");
    assertThat(map(pvc, "metadata").get("name")).isEqualTo(claim);
    assertThat((List<String>) map(pvc, "spec").get("accessModes")).contains("ReadOnlyMany");
    // … and docker-compose.yml's engines use the same layout (one tutorial for both)
    Map<String, Object> compose = new Yaml().load(Files.readString(Path.of("docker-compose.yml")));
    Map<String, Object> services = map(compose, "services");
    for (String name : List.of("reranker-1", "reranker-2", "reranker-3")) {
      Map<String, Object> env = map(map(services, name), "environment");
      assertThat(env.get("RERANKER_MODELS_PERFORMER")).as(name).isEqualTo(models.get("performer"));
      assertThat(env.get("RERANKER_MODELS_SOFTMAX")).as(name).isEqualTo(models.get("softmax"));
      assertThat(env.get("RERANKER_MODELS_LIBRARY")).as(name).isEqualTo(models.get("library"));
      assertThat((List<String>) map(services, name).get("volumes")).as(name)
          .contains("./models:" + mount.get("mountPath") + ":ro");
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void prometheusInKubernetesScrapesThePodsAtTheirMetricsEndpoint() throws IOException {
    Map<String, Object> config = new Yaml().load(
        Files.readString(Path.of("config/prometheus/prometheus-kubernetes.yml")));
    Map<String, Object> job = ((List<Map<String, Object>>) config.get("scrape_configs")).get(0);
    List<Map<String, Object>> relabel = (List<Map<String, Object>>) job.get("relabel_configs");
    Map<String, Object> annotations = map(map(map(map(find("StatefulSet"), "spec"), "template"),
        "metadata"), "annotations");
    // what kubernetes_sd_configs (role: pod) gives a pod of the StatefulSet
    Map<String, String> pod = new LinkedHashMap<>();
    pod.put("__address__", "10.1.2.3:8080");
    pod.put("__metrics_path__", "/metrics");
    pod.put("__meta_kubernetes_namespace", "shop");
    pod.put("__meta_kubernetes_pod_name", "reranker-0");
    annotations.forEach((k, v) -> pod.put("__meta_kubernetes_pod_annotation_"
        + k.replaceAll("[^A-Za-z0-9_]", "_"), String.valueOf(v)));
    Map<String, String> target = relabel(pod, relabel);
    assertThat(target).isNotNull();
    assertThat(target.get("__metrics_path__")).isEqualTo("/actuator/prometheus");
    assertThat(target.get("__address__")).isEqualTo("10.1.2.3:8080");
    assertThat(target.get("instance")).isEqualTo("reranker-0");
    Map<String, String> other = new LinkedHashMap<>(pod);
    other.remove("__meta_kubernetes_pod_annotation_prometheus_io_scrape");
    assertThat(relabel(other, relabel)).as("a pod without the annotation").isNull();
  }

  /** Prometheus' keep/replace relabelling (the subset the config uses); null: dropped. */
  private static Map<String, String> relabel(Map<String, String> labels,
      List<Map<String, Object>> rules) {
    Map<String, String> out = new LinkedHashMap<>(labels);
    for (Map<String, Object> rule : rules) {
      @SuppressWarnings("unchecked")
      List<String> sources = (List<String>) rule.get("source_labels");
      String value = String.join(";", sources.stream().map(l -> out.getOrDefault(l, ""))
          .toList());
      Pattern regex = Pattern.compile((String) rule.getOrDefault("regex", "(.*)"));
      Matcher m = regex.matcher(value);
      String action = (String) rule.getOrDefault("action", "replace");
      if (action.equals("keep")) {
        if (!m.matches()) {
          return null;
        }
      } else if (m.matches()) {
        // $1, $2: the same syntax in Prometheus and java.util.regex
        String replacement = (String) rule.getOrDefault("replacement", "$1");
        out.put((String) rule.get("target_label"), m.replaceFirst(replacement));
      }
    }
    return out;
  }

  @Test
  void theImageIsSetInOnePlaceByKustomize() throws IOException {
    assertThat(container().get("image")).isEqualTo("reranker:dev");
    assertThat(Files.readString(Path.of("k8s/statefulset.yaml"))).contains("image: reranker\n");
  }

  private static Map<String, Object> container() {
    Map<String, Object> pod = map(map(map(find("StatefulSet"), "spec"), "template"), "spec");
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> containers = (List<Map<String, Object>>) pod.get("containers");
    return containers.get(0);
  }

  private static String env(Map<String, Object> container, String name) {
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> env = (List<Map<String, Object>>) container.get("env");
    return env.stream().filter(e -> e.get("name").equals(name)).map(e -> (String) e.get("value"))
        .findFirst().orElseThrow(() -> new AssertionError("no env " + name));
  }

  private static long flag(String options, String regex) {
    Matcher m = Pattern.compile(regex).matcher(options);
    assertThat(m.find()).as(regex + " in " + options).isTrue();
    return Long.parseLong(m.group(1));
  }

  private static long mebibytes(String quantity) {
    if (quantity.endsWith("Gi")) {
      return Long.parseLong(quantity.substring(0, quantity.length() - 2)) * 1024;
    }
    assertThat(quantity).endsWith("Mi");
    return Long.parseLong(quantity.substring(0, quantity.length() - 2));
  }

  private static Map<String, Object> find(String kind) {
    return resources.stream().filter(r -> r.get("kind").equals(kind)).findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Map<String, Object> m, String key) {
    Object v = m.get(key);
    assertThat(v).as(key).isInstanceOf(Map.class);
    return (Map<String, Object>) v;
  }
}
