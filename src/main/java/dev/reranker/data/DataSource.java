package dev.reranker.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Where training and evaluation data come from: a file in one of the {@link InteractionReaders}
 * formats, or a synthetic generator ({@code synthetic:small}, {@code synthetic:demo} — episodes
 * of {@link SyntheticGenerator} — or {@code synthetic:long-range} and {@code synthetic:recurrence},
 * {@link RecurrenceGenerator};
 * optionally {@code :seed}). Loading reads, reports bad lines, and preprocesses into a {@link Dataset}.
 *
 * @param spec the file path or synthetic spec as given
 * @param format the file format (ignored for synthetic data)
 * @param kCore the k-core filter (SASRec: 5); ≤ 1 keeps everything
 */
public record DataSource(String spec, InteractionReaders.Format format, int kCore) {

  /** A loaded dataset and what describes its origin. */
  public record Loaded(Dataset dataset, ReadResult read, Map<String, Object> provenance) {}

  public boolean synthetic() {
    return spec.startsWith("synthetic:");
  }

  public Loaded load() throws IOException {
    ReadResult read;
    Map<String, Object> provenance = new LinkedHashMap<>();
    if (synthetic()) {
      List<Interaction> events = new ArrayList<>();
      Object options = generateSynthetic(spec, events::add);
      read = new ReadResult(spec, events.size(), events, List.of());
      provenance.put("data", spec);
      provenance.put("data_generator", options.toString());
    } else {
      Path path = Path.of(spec);
      if (!Files.isRegularFile(path)) {
        throw new IllegalArgumentException("data file " + path + " does not exist");
      }
      read = InteractionReaders.read(path, format);
      provenance.put("data", path.toString());
      provenance.put("data_format", format.name().toLowerCase(Locale.ROOT));
      provenance.put("data_sha256", sha256(path));
    }
    provenance.put("data_events_read", read.interactions().size());
    provenance.put("data_bad_lines", read.badLines().size());
    provenance.put("k_core", kCore);
    Dataset dataset = Dataset.build(read.interactions(), kCore);
    provenance.put("dataset", dataset.toString());
    return new Loaded(dataset, read, provenance);
  }

  /** The synthetic specs this source accepts, for messages and help. */
  public static final String SYNTHETIC_SPECS =
      "synthetic:small, synthetic:demo, synthetic:long-range, synthetic:recurrence, optionally "
          + ":seed";

  /**
   * Streams a synthetic spec's events to {@code sink}, user by user, and returns the generator's
   * options (for provenance).
   */
  public static Object generateSynthetic(String spec, Consumer<Interaction> sink) {
    if ("long-range".equals(syntheticName(spec))) {
      RecurrenceGenerator.Options options = RecurrenceGenerator.Options.longRange(
          syntheticSeed(spec));
      new RecurrenceGenerator(options).generate(sink);
      return options;
    }
    if ("recurrence".equals(syntheticName(spec))) {
      RecurrenceGenerator.Options options = RecurrenceGenerator.Options.standard(
          syntheticSeed(spec));
      new RecurrenceGenerator(options).generate(sink);
      return options;
    }
    SyntheticGenerator.Options options = syntheticOptions(spec);
    new SyntheticGenerator(options).generate(sink);
    return options;
  }

  /** {@code synthetic:small|demo[:seed]}: the episode generator's settings. */
  public static SyntheticGenerator.Options syntheticOptions(String spec) {
    long seed = syntheticSeed(spec);
    return switch (syntheticName(spec)) {
      case "small" -> SyntheticGenerator.Options.small(seed);
      case "demo" -> SyntheticGenerator.Options.demo(seed);
      default -> throw new IllegalArgumentException("unknown synthetic data '" + spec
          + "' (accepted: " + SYNTHETIC_SPECS + ")");
    };
  }

  private static String syntheticName(String spec) {
    String[] parts = spec.split(":");
    return parts.length > 1 ? parts[1] : "";
  }

  private static long syntheticSeed(String spec) {
    String[] parts = spec.split(":");
    try {
      return parts.length > 2 ? Long.parseLong(parts[2]) : 1;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("the seed of '" + spec + "' must be an integer");
    }
  }

  /** Hex SHA-256 of a file. */
  public static String sha256(Path file) throws IOException {
    try (var in = Files.newInputStream(file)) {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      byte[] buffer = new byte[1 << 16];
      int n;
      while ((n = in.read(buffer)) > 0) {
        digest.update(buffer, 0, n);
      }
      return HexFormat.of().formatHex(digest.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
