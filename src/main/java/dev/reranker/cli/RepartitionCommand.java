package dev.reranker.cli;

import dev.reranker.data.Topics;
import dev.reranker.ingest.TopicCopy;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code repartition}: the step that changes the partition count while keeping every user's history
 * and state. The engine never grows or shrinks a topic in place (a user's partition decides where
 * their history lives; Kafka Streams' changelogs keep their count); instead the user-keyed input
 * topics are copied into new topics with the new count ({@link TopicCopy}), and the engine is
 * started on those under a new application id, so it ingests every history again into fresh
 * stores and changelogs. The old topics stay as they were: going back is starting with the old
 * settings. The whole procedure is in docs/operations.md.
 */
@Command(name = "repartition", mixinStandardHelpOptions = true,
    description = {"Copy the user-keyed input topics into new topics with another partition "
        + "count, keeping each user's events in order; then start the engine on the new topics "
        + "under a new application id (the command prints the settings). Stop the engines "
        + "first; pause the producers, or run the command again for what arrived meanwhile "
        + "(it resumes where it stopped). See docs/operations.md."})
final class RepartitionCommand implements Callable<Integer> {

  @Option(names = "--bootstrap-servers", required = true, description = "Kafka bootstrap servers.")
  String bootstrapServers;

  @Option(names = "--partitions", required = true, description = "The new partition count.")
  int partitions;

  @Option(names = "--interactions", defaultValue = Topics.INTERACTIONS,
      description = "The interactions topic now (default: ${DEFAULT-VALUE}).")
  String interactions;

  @Option(names = "--exposures", defaultValue = Topics.EXPOSURES,
      description = "The exposures topic now, copied too so that the experiments' outcome join "
          + "is rebuilt; '' to leave it (default: ${DEFAULT-VALUE}).")
  String exposures;

  @Option(names = "--suffix", description = "Appended to each topic's name for its copy "
      + "(default: .p<partitions>).")
  String suffix;

  @Option(names = "--application-id", defaultValue = "reranker-ingest",
      description = "The stream application id now (default: ${DEFAULT-VALUE}); the new one is "
          + "it plus the suffix.")
  String applicationId;

  @Option(names = "--allow-truncated", description = "Copy even when retention has deleted a "
      + "topic's earliest records (those users get shorter histories).")
  boolean allowTruncated;

  @Override
  public Integer call() throws Exception {
    String s = suffix != null ? suffix : ".p" + partitions;
    Map<String, String> copies = new LinkedHashMap<>();
    copies.put(interactions, interactions + s);
    if (exposures != null && !exposures.isBlank()) {
      copies.put(exposures, exposures + s);
    }
    for (Map.Entry<String, String> c : copies.entrySet()) {
      System.out.printf("copying %s into %s (%d partitions)%n", c.getKey(), c.getValue(),
          partitions);
      TopicCopy.Result r = TopicCopy.copy(bootstrapServers, c.getKey(), c.getValue(), partitions,
          allowTruncated, System.out);
      System.out.printf("%s (%d partitions) → %s (%d partitions%s): %,d records in %.1f s%n",
          r.from(), r.fromPartitions(), r.to(), r.toPartitions(), r.created() ? ", created"
              : ", existed: resumed", r.records(), r.seconds());
    }
    String app = (applicationId + s).replaceAll("[^a-zA-Z0-9._-]", "-");
    System.out.println();
    System.out.println("Start the engines with these settings (and keep them):");
    System.out.println("  --reranker.ingest.partitions=" + partitions);
    System.out.println("  --reranker.ingest.topic=" + copies.get(interactions));
    System.out.println("  --reranker.ingest.dlq-topic=" + Topics.DEAD_LETTERS + s
        + "   (or your dead-letter topic's name plus " + s + ")");
    if (copies.containsKey(exposures)) {
      System.out.println("  --reranker.experiments.exposures-topic=" + copies.get(exposures));
      System.out.println("  --reranker.experiments.outcomes-topic=" + Topics.OUTCOMES + s
          + "   (or your outcomes topic's name plus " + s + ")");
    }
    System.out.println("  --spring.kafka.streams.application-id=" + app);
    System.out.println("then point the producers at " + copies.get(interactions) + ".");
    return 0;
  }
}
