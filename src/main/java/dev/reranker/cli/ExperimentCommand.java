package dev.reranker.cli;

import dev.reranker.data.Topics;
import dev.reranker.experiment.AggregateReport;
import dev.reranker.experiment.ArmAggregate;
import dev.reranker.experiment.ArmChoice;
import dev.reranker.experiment.Experiment;
import dev.reranker.experiment.ExperimentLog;
import dev.reranker.experiment.ReplayJoin;
import dev.reranker.data.Interaction;
import dev.reranker.ingest.EventAcceptance;
import dev.reranker.ingest.IngestSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/** {@code experiment}: offline tools for experiments. */
@Command(name = "experiment", mixinStandardHelpOptions = true,
    description = "Offline tools for experiments.",
    subcommands = {ExperimentCommand.Replay.class, CommandLine.HelpCommand.class})
final class ExperimentCommand implements Runnable {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /**
   * {@code experiment replay}: reads the exposures and the interactions from the beginning and
   * recomputes the report from the records alone, by a second implementation of the join ({@link
   * ReplayJoin}), so the live join can be checked against it: the counts must be equal, the
   * statistics equal within float tolerance (the live join sums by deltas).
   */
  @Command(name = "replay", mixinStandardHelpOptions = true,
      description = "Recompute an experiment's report offline from rerank.exposures and the "
          + "interactions, read from the beginning; prints a summary table, writes the JSON "
          + "report (stdout, or --out).")
  static final class Replay implements Callable<Integer> {

    @Option(names = "--experiment", required = true, description = "The experiment id.")
    String experiment;

    @Option(names = "--bootstrap-servers", required = true,
        description = "Kafka bootstrap servers.")
    String bootstrapServers;

    @Option(names = "--exposures-topic", defaultValue = Topics.EXPOSURES,
        description = "Exposures topic (default: ${DEFAULT-VALUE}).")
    String exposuresTopic;

    @Option(names = "--interactions-topic", defaultValue = Topics.INTERACTIONS,
        description = "Interactions topic (default: ${DEFAULT-VALUE}).")
    String interactionsTopic;

    @Option(names = "--experiments-topic", defaultValue = Topics.EXPERIMENTS,
        description = "Where the experiment's definition (weights, k) is read (default: "
            + "${DEFAULT-VALUE}).")
    String experimentsTopic;

    @Option(names = "--horizon", defaultValue = "PT24H",
        description = "Exposures unresolved this long are misses, ISO-8601 (default: "
            + "${DEFAULT-VALUE}; use the service's reranker.experiments.horizon).")
    Duration horizon;

    @Option(names = "--now", description = "Epoch ms the horizon is measured to (default: the "
        + "current time).")
    Long now;

    @Option(names = "--out", description = "Write the JSON report here instead of stdout.")
    Path out;

    @Option(names = "--sequential-tau", description = "As reranker.experiments.sequential-tau "
        + "(default: the service's default).")
    Double tau;

    @Option(names = "--target-mde", description = "As reranker.experiments.target-mde.")
    Double targetMde;

    @Option(names = "--max-p99-ms", description = "As reranker.experiments.max-p99-ms.")
    Double maxP99Ms;

    @Option(names = "--max-degraded-rate", description = "As "
        + "reranker.experiments.max-degraded-rate.")
    Double maxDegradedRate;

    @Option(names = "--max-cold-start-rate", description = "As "
        + "reranker.experiments.max-cold-start-rate.")
    Double maxColdStartRate;

    @Option(names = "--max-error-rate", description = "As reranker.experiments.max-error-rate.")
    Double maxErrorRate;

    @Option(names = "--future-tolerance", description = "As reranker.ingest.future-tolerance, "
        + "ISO-8601 (default: the service's default).")
    Duration futureTolerance;

    @Option(names = "--history-limit", description = "As reranker.ingest.history-limit (a "
        + "repeated event id is ignored while the first is among the user's last this many).")
    Integer historyLimit;

    @Option(names = "--max-record-bytes", description = "As reranker.ingest.max-record-bytes.")
    Integer maxRecordBytes;

    @Option(names = "--timeout", defaultValue = "PT60S",
        description = "Give up reading a topic after this long, ISO-8601 (default: "
            + "${DEFAULT-VALUE}).")
    Duration timeout;

    @Override
    public Integer call() throws Exception {
      if (!Experiment.validId(experiment)) {
        throw new IllegalArgumentException(Experiment.ID_RULE);
      }
      Experiment definition = definition();
      List<ReplayJoin.KeyedRecord> exposures = new ArrayList<>();
      readAll(exposuresTopic, (r, t) -> exposures.add(r));
      // the interactions as the live join sees them: only what the ingestion applied
      IngestSettings d0 = IngestSettings.defaults();
      EventAcceptance acceptance = new EventAcceptance(new IngestSettings(interactionsTopic,
          d0.dlqTopic(), historyLimit == null ? d0.historyLimit() : historyLimit,
          futureTolerance == null ? d0.futureTolerance() : futureTolerance,
          maxRecordBytes == null ? d0.maxRecordBytes() : maxRecordBytes, d0.dlqMaxValueBytes(),
          d0.microBatchEvents(), d0.flushInterval(), d0.eagerArms()));
      List<Interaction> accepted = new ArrayList<>();
      Map<String, Long> ignored = new java.util.TreeMap<>();
      long[] interactionRecords = {0};
      readAll(interactionsTopic, (rec, timestamp) -> {
        interactionRecords[0]++;
        switch (acceptance.accept(rec.key(), rec.value(), timestamp)) {
          case EventAcceptance.Accepted a -> accepted.add(a.event());
          case EventAcceptance.Ignored i -> ignored.merge(i.reason(), 1L, Long::sum);
        }
      });
      ReplayJoin.Replayed r = ReplayJoin.fromRecords(exposures, accepted, ignored, horizon,
          now == null ? System.currentTimeMillis() : now);
      Map<ArmChoice, ArmAggregate> arms = r.of(experiment);
      AggregateReport.Settings d = AggregateReport.Settings.defaults();
      Map<String, Object> report = AggregateReport.build(definition, arms,
          new AggregateReport.Settings(tau == null ? d.tau() : tau,
              maxP99Ms == null ? d.maxP99Ms() : maxP99Ms,
              maxDegradedRate == null ? d.maxDegradedRate() : maxDegradedRate,
              maxColdStartRate == null ? d.maxColdStartRate() : maxColdStartRate,
              targetMde == null ? d.targetMde() : targetMde,
              maxErrorRate == null ? d.maxErrorRate() : maxErrorRate));
      report.put("interactions_ignored", r.ignoredInteractions());
      report.put("replay", Map.of("exposure_records", exposures.size(), "interaction_records",
          interactionRecords[0], "skipped_exposure_records", r.skippedExposures(),
          "skipped_interaction_records", r.skippedInteractions(), "horizon", horizon.toString()));
      String json = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build()
          .writeValueAsString(report);
      java.io.PrintStream err = System.err;
      err.printf(Locale.ROOT, "replayed %s: %,d exposure and %,d interaction records "
          + "(%d and %d skipped; interactions the engine did not apply: %s)%n", experiment,
          exposures.size(), interactionRecords[0], r.skippedExposures(), r.skippedInteractions(),
          r.ignoredInteractions());
      err.println("| arm | users | exposures | resolved | HR@k | NDCG@k | MRR |");
      err.println("|---|---:|---:|---:|---:|---:|---:|");
      arms.forEach((arm, a) -> err.printf(Locale.ROOT, "| %s | %d | %d | %d | %.4f | %.4f | "
          + "%.4f |%n", arm.wireName(), a.hits().users(), a.exposures(),
          (long) a.hits().denominator(), a.hits().ratio(), a.ndcg().ratio(),
          a.reciprocalRank().ratio()));
      if (out == null) {
        System.out.println(json);
      } else {
        Files.writeString(out, json + "\n", StandardCharsets.UTF_8);
        err.println("wrote " + out);
      }
      return 0;
    }

    /** The experiment's last record in the experiments topic; the standard one for none. */
    private Experiment definition() {
      Experiment found = null;
      List<ReplayJoin.KeyedRecord> definitions = new ArrayList<>();
      readAll(experimentsTopic, (r, t) -> definitions.add(r));
      for (ReplayJoin.KeyedRecord r : definitions) {
        if (experiment.equals(r.key()) && r.value() != null) {
          try {
            found = ExperimentLog.fromJson(new String(r.value(), StandardCharsets.UTF_8));
          } catch (IllegalArgumentException e) {
            System.err.println("skipped an unreadable record of " + experiment + ": "
                + e.getMessage());
          }
        }
      }
      if (found == null) {
        System.err.println("experiment " + experiment + " is not in " + experimentsTopic
            + "; using the standard definition (50/50, k = 10) for its weights and k");
        return Experiment.standard(experiment);
      }
      return found;
    }

    /**
     * Every record of a topic, from the beginning to the end offsets as of now, to {@code each}
     * with its Kafka timestamp; each partition's records in order.
     */
    private void readAll(String topic,
        java.util.function.BiConsumer<ReplayJoin.KeyedRecord, Long> each) {
      try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(Map.of(
          ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
          ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
          ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
          ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000), new StringDeserializer(),
          new ByteArrayDeserializer())) {
        List<PartitionInfo> infos = c.partitionsFor(topic, timeout);
        if (infos == null || infos.isEmpty()) {
          throw new IllegalArgumentException("topic " + topic + " does not exist");
        }
        List<TopicPartition> partitions = infos.stream()
            .map(i -> new TopicPartition(topic, i.partition())).toList();
        c.assign(partitions);
        c.seekToBeginning(partitions);
        Map<TopicPartition, Long> end = c.endOffsets(partitions, timeout);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (partitions.stream().anyMatch(p -> c.position(p) < end.get(p))) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("reading " + topic + " took longer than " + timeout);
          }
          for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
            each.accept(new ReplayJoin.KeyedRecord(r.key(), r.value()), r.timestamp());
          }
        }
      }
    }
  }
}
