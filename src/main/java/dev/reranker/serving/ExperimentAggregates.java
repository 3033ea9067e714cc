package dev.reranker.serving;

import dev.reranker.data.Topics;
import dev.reranker.experiment.ArmAggregate;
import dev.reranker.experiment.ArmChoice;
import dev.reranker.experiment.OutcomeJoin;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * An experiment's aggregates over every instance: each instance holds the outcome join's stores
 * for the partitions it owns ({@link OutcomeJoin}); the report asks every owner (Kafka Streams
 * {@code streamsMetadataForStore}, each instance's {@code application.server}) for its partitions'
 * aggregates — this instance's own from its stores, the others' over HTTP ({@code GET
 * /internal/experiments/{id}/aggregates}) — and adds them up in partition order. The same
 * partitions give the same sums to the last bit, so every instance answers the same report.
 *
 * <p>A partition nobody could answer for (its owner down or restoring, a rebalance under way) is
 * named in the result, never silently left out: a report without it would be a report on other
 * users.
 */
public final class ExperimentAggregates {

  private static final ObjectMapper JSON = JsonMapper.builder().build();
  static final String PATH = "/internal/experiments/";

  /**
   * One instance's answer: its partitions' shares, its fold cost per model arm, and how many
   * exposures it served but could not write since it started (all experiments).
   */
  public record InstanceShare(List<PartitionShare> partitions, Map<ArmChoice, long[]> fold,
      long unpublished) {
    public InstanceShare(List<PartitionShare> partitions, Map<ArmChoice, long[]> fold) {
      this(partitions, fold, 0);
    }
  }

  /**
   * One partition's share: per arm its aggregate, and its series (bucket start → aggregate); per
   * reason the interactions records of the partition that the ingestion did not apply (so the
   * join did not see them).
   */
  public record PartitionShare(int partition, Map<ArmChoice, ArmAggregate> totals,
      Map<ArmChoice, NavigableMap<Long, ArmAggregate>> series, Map<String, Long> ignored) {
    public PartitionShare(int partition, Map<ArmChoice, ArmAggregate> totals,
        Map<ArmChoice, NavigableMap<Long, ArmAggregate>> series) {
      this(partition, totals, series, Map.of());
    }
  }

  /**
   * The experiment over the partitions that answered.
   *
   * @param totals per arm, summed over the answered partitions in partition order
   * @param series per bucket, each arm's aggregate as of then (a partition's last earlier point
   *     carried forward)
   * @param partitions the partitions that answered
   * @param missing the partitions owned by an instance that did not answer, or by none
   * @param ignored per reason, the interactions records of the answered partitions that the
   *     ingestion did not apply and the join so ignored
   */
  public record Assembled(Map<ArmChoice, ArmAggregate> totals,
      NavigableMap<Long, Map<ArmChoice, ArmAggregate>> series, Set<Integer> partitions,
      Set<Integer> missing, List<String> unreachable, Map<ArmChoice, long[]> fold,
      Map<String, Long> ignored, long unpublished) {

    /** Fold µs per event per model arm over the instances that answered; NaN without events. */
    public Map<ArmChoice, Double> foldMicrosPerEvent() {
      Map<ArmChoice, Double> out = new EnumMap<>(ArmChoice.class);
      fold.forEach((arm, c) -> out.put(arm, c[0] == 0 ? Double.NaN : c[1] / 1e3 / c[0]));
      return out;
    }

    public boolean complete() {
      return missing.isEmpty();
    }
  }

  private final Supplier<KafkaStreams> streams;
  /** A topic the join's tasks read (the exposures): task p reads its partition p. */
  private final String joinTopic;
  private final HostInfo self;
  private final Duration timeout;
  private final HttpClient http;
  private final Supplier<Map<ArmChoice, long[]>> localFold;
  private final ClusterKey clusterKey;
  private final java.util.function.LongSupplier localUnpublished;

  /**
   * @param self this instance's {@code application.server}; null when it has none (one instance:
   *     only local stores are read)
   */
  public ExperimentAggregates(Supplier<KafkaStreams> streams, String joinTopic,
      HostInfo self, Duration timeout) {
    this(streams, joinTopic, self, timeout, () -> Map.of(), null, () -> 0);
  }

  /**
   * @param localFold this instance's fold cost per model arm since it started: {events, nanos}
   * @param clusterKey sent to the other instances' internal endpoint; null: none (one instance)
   * @param localUnpublished exposures this instance served but could not write, since it started
   */
  public ExperimentAggregates(Supplier<KafkaStreams> streams, String joinTopic,
      HostInfo self, Duration timeout, Supplier<Map<ArmChoice, long[]>> localFold,
      ClusterKey clusterKey, java.util.function.LongSupplier localUnpublished) {
    this.localFold = localFold;
    this.localUnpublished = localUnpublished;
    this.clusterKey = clusterKey;
    this.streams = streams;
    this.joinTopic = joinTopic;
    this.self = self;
    this.timeout = timeout;
    this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
  }

  /**
   * This instance's shares: one per active task of the join.
   *
   * @throws StateUnavailable while Kafka Streams is not running or rebalancing
   */
  public List<PartitionShare> local(String experiment) {
    KafkaStreams ks = running();
    List<PartitionShare> out = new ArrayList<>();
    for (int p : localPartitions(ks)) {
      try {
        ReadOnlyKeyValueStore<Bytes, byte[]> totals = ks.store(StoreQueryParameters.fromNameAndType(
            Topics.ARM_AGGREGATES_STORE, QueryableStoreTypes.<Bytes, byte[]>keyValueStore())
            .withPartition(p));
        ReadOnlyKeyValueStore<Bytes, byte[]> series = ks.store(StoreQueryParameters.fromNameAndType(
            Topics.ARM_SERIES_STORE, QueryableStoreTypes.<Bytes, byte[]>keyValueStore())
            .withPartition(p));
        ReadOnlyKeyValueStore<Bytes, byte[]> ignored = ks.store(StoreQueryParameters
            .fromNameAndType(Topics.IGNORED_INTERACTIONS_STORE,
                QueryableStoreTypes.<Bytes, byte[]>keyValueStore()).withPartition(p));
        out.add(new PartitionShare(p, OutcomeJoin.aggregates(totals, experiment),
            OutcomeJoin.series(series, experiment), OutcomeJoin.ignored(ignored)));
      } catch (InvalidStateStoreException e) {
        throw new StateUnavailable("partition " + p + "'s experiment stores are not queryable ("
            + e.getMessage() + ")");
      }
    }
    return out;
  }

  /** Everything, from every instance that owns some of the experiment's partitions. */
  public Assembled assemble(String experiment) {
    KafkaStreams ks = running();
    Map<Integer, PartitionShare> shares = new TreeMap<>();
    Set<Integer> expected = new TreeSet<>();
    List<String> unreachable = new ArrayList<>();
    List<CompletableFuture<InstanceShare>> remote = new ArrayList<>();
    Map<ArmChoice, long[]> fold = new EnumMap<>(ArmChoice.class);
    long unpublished = 0;
    List<StreamsMetadata> owners = new ArrayList<>(
        ks.streamsMetadataForStore(Topics.ARM_AGGREGATES_STORE));
    boolean selfListed = false;
    for (StreamsMetadata m : owners) {
      for (TopicPartition tp : m.topicPartitions()) {
        if (tp.topic().equals(joinTopic)) {
          expected.add(tp.partition());
        }
      }
      if (self == null || self.equals(m.hostInfo())) {
        selfListed = true;
        continue;
      }
      HostInfo host = m.hostInfo();
      remote.add(fetch(host, experiment).exceptionally(ex -> {
        synchronized (unreachable) {
          unreachable.add(host.host() + ":" + host.port() + " (" + rootMessage(ex) + ")");
        }
        return new InstanceShare(List.of(), Map.of());
      }));
    }
    if (selfListed || owners.isEmpty()) {
      local(experiment).forEach(s -> shares.put(s.partition(), s));
      addFold(fold, localFold.get());
      unpublished += localUnpublished.getAsLong();
      if (owners.isEmpty()) {
        expected.addAll(shares.keySet());
      }
    }
    for (CompletableFuture<InstanceShare> f : remote) {
      InstanceShare answer = f.join();
      answer.partitions().forEach(s -> shares.putIfAbsent(s.partition(), s));
      addFold(fold, answer.fold());
      unpublished += answer.unpublished();
    }
    Set<Integer> missing = new TreeSet<>(expected);
    missing.removeAll(shares.keySet());
    java.util.Collections.sort(unreachable);
    Assembled a = combine(shares, missing, unreachable);
    return new Assembled(a.totals(), a.series(), a.partitions(), a.missing(), a.unreachable(),
        fold, a.ignored(), unpublished);
  }

  private static void addFold(Map<ArmChoice, long[]> into, Map<ArmChoice, long[]> more) {
    more.forEach((arm, c) -> into.merge(arm, c.clone(), (x, y) -> new long[] {x[0] + y[0],
        x[1] + y[1]}));
  }

  /** Adds up shares in partition order (so the sums are the same whoever adds them). */
  static Assembled combine(Map<Integer, PartitionShare> byPartition, Set<Integer> missing,
      List<String> unreachable) {
    Map<ArmChoice, ArmAggregate> totals = new EnumMap<>(ArmChoice.class);
    TreeSet<Long> buckets = new TreeSet<>();
    Map<String, Long> ignored = new TreeMap<>();
    for (PartitionShare s : byPartition.values()) { // a TreeMap: ascending partitions
      s.totals().forEach((arm, a) -> totals.merge(arm, a, ArmAggregate::merge));
      s.ignored().forEach((reason, n) -> ignored.merge(reason, n, Long::sum));
      s.series().values().forEach(m -> buckets.addAll(m.keySet()));
    }
    NavigableMap<Long, Map<ArmChoice, ArmAggregate>> series = new TreeMap<>();
    for (long bucket : buckets) {
      Map<ArmChoice, ArmAggregate> point = new EnumMap<>(ArmChoice.class);
      for (PartitionShare s : byPartition.values()) {
        s.series().forEach((arm, m) -> {
          Map.Entry<Long, ArmAggregate> asOf = m.floorEntry(bucket);
          if (asOf != null) {
            point.merge(arm, asOf.getValue(), ArmAggregate::merge);
          }
        });
      }
      series.put(bucket, point);
    }
    return new Assembled(totals, series, new TreeSet<>(byPartition.keySet()), missing,
        unreachable, Map.of(), ignored, 0);
  }

  private CompletableFuture<InstanceShare> fetch(HostInfo host, String experiment) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + host.host() + ":"
            + host.port() + PATH + URLEncoder.encode(experiment, StandardCharsets.UTF_8)
            + "/aggregates"))
        .timeout(timeout).GET();
    if (clusterKey != null) {
      b.header(ClusterKey.HEADER, clusterKey.value());
    }
    HttpRequest request = b.build();
    return http.sendAsync(request, HttpResponse.BodyHandlers.ofString()).thenApply(r -> {
      if (r.statusCode() != 200) {
        throw new IllegalStateException("HTTP " + r.statusCode());
      }
      return fromJson(r.body());
    });
  }

  /** This instance's answer to another's report request. */
  public String localJson(String experiment) {
    return toJson(local(experiment), localFold.get(), localUnpublished.getAsLong());
  }

  /** The shares as sent between instances: aggregates in their binary form, base64. */
  static String toJson(List<PartitionShare> shares, Map<ArmChoice, long[]> fold,
      long unpublished) {
    Base64.Encoder b64 = Base64.getEncoder();
    List<Map<String, Object>> out = new ArrayList<>();
    for (PartitionShare s : shares) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("partition", s.partition());
      Map<String, String> totals = new LinkedHashMap<>();
      s.totals().forEach((arm, a) -> totals.put(arm.wireName(),
          b64.encodeToString(OutcomeJoin.encode(a))));
      m.put("totals", totals);
      Map<String, Map<String, String>> series = new LinkedHashMap<>();
      s.series().forEach((arm, points) -> {
        Map<String, String> p = new LinkedHashMap<>();
        points.forEach((bucket, a) -> p.put(Long.toString(bucket),
            b64.encodeToString(OutcomeJoin.encode(a))));
        series.put(arm.wireName(), p);
      });
      m.put("series", series);
      m.put("ignored", s.ignored());
      out.add(m);
    }
    Map<String, long[]> folds = new LinkedHashMap<>();
    fold.forEach((arm, c) -> folds.put(arm.wireName(), c));
    return JSON.writeValueAsString(Map.of("partitions", out, "fold", folds, "unpublished",
        unpublished));
  }

  static InstanceShare fromJson(String text) {
    Base64.Decoder b64 = Base64.getDecoder();
    List<PartitionShare> out = new ArrayList<>();
    tools.jackson.databind.JsonNode root = JSON.readTree(text);
    Map<ArmChoice, long[]> fold = new EnumMap<>(ArmChoice.class);
    if (root.has("fold")) {
      root.get("fold").properties().forEach(e -> fold.put(ArmChoice.parse(e.getKey()),
          new long[] {e.getValue().get(0).asLong(), e.getValue().get(1).asLong()}));
    }
    for (tools.jackson.databind.JsonNode p : root.get("partitions")) {
      Map<ArmChoice, ArmAggregate> totals = new EnumMap<>(ArmChoice.class);
      p.get("totals").properties().forEach(e -> totals.put(ArmChoice.parse(e.getKey()),
          OutcomeJoin.decode(b64.decode(e.getValue().asString()))));
      Map<ArmChoice, NavigableMap<Long, ArmAggregate>> series = new EnumMap<>(ArmChoice.class);
      p.get("series").properties().forEach(e -> {
        NavigableMap<Long, ArmAggregate> points = new TreeMap<>();
        e.getValue().properties().forEach(q -> points.put(Long.parseLong(q.getKey()),
            OutcomeJoin.decode(b64.decode(q.getValue().asString()))));
        series.put(ArmChoice.parse(e.getKey()), points);
      });
      Map<String, Long> ignored = new TreeMap<>();
      if (p.has("ignored")) { // an instance of an earlier version sends none
        p.get("ignored").properties().forEach(e -> ignored.put(e.getKey(),
            e.getValue().asLong()));
      }
      out.add(new PartitionShare(p.get("partition").asInt(), totals, series, ignored));
    }
    return new InstanceShare(out, fold, root.has("unpublished") ? root.get("unpublished")
        .asLong() : 0);
  }

  private KafkaStreams running() {
    KafkaStreams ks = streams.get();
    if (ks == null || ks.state() != KafkaStreams.State.RUNNING) {
      throw new StateUnavailable("Kafka Streams is " + (ks == null ? "not started"
          : ks.state().toString()) + "; the experiment stores cannot be read yet");
    }
    return ks;
  }

  private Set<Integer> localPartitions(KafkaStreams ks) {
    Set<Integer> out = new TreeSet<>();
    ks.metadataForLocalThreads().forEach(t -> t.activeTasks().forEach(task -> {
      for (TopicPartition tp : task.topicPartitions()) {
        if (tp.topic().equals(joinTopic)) {
          // the join's task p reads partition p of the exposures and of the ingestion's output
          // (the ingestion's task p, partition p of the interactions, is another task)
          out.add(task.taskId().partition());
        }
      }
    }));
    return out;
  }

  private static String rootMessage(Throwable t) {
    while (t.getCause() != null) {
      t = t.getCause();
    }
    return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
  }

  /** The stores cannot be read now (answer 503, try again). */
  public static final class StateUnavailable extends RuntimeException {
    StateUnavailable(String message) {
      super(message);
    }
  }
}
