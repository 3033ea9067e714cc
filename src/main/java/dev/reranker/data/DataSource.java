package dev.reranker.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where training and evaluation data come from: a file in one of the {@link InteractionReaders}
 * formats, or the synthetic generator ({@code synthetic:small}, {@code synthetic:demo}, optionally
 * {@code :seed}). Loading reads, reports bad lines, and preprocesses into a {@link Dataset}.
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
      SyntheticGenerator.Options options = syntheticOptions(spec);
      List<Interaction> events = new SyntheticGenerator(options).generate();
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

  /** {@code synthetic:small|demo[:seed]}. */
  public static SyntheticGenerator.Options syntheticOptions(String spec) {
    String[] parts = spec.split(":");
    long seed = parts.length > 2 ? Long.parseLong(parts[2]) : 1;
    return switch (parts.length > 1 ? parts[1] : "") {
      case "small" -> SyntheticGenerator.Options.small(seed);
      case "demo" -> SyntheticGenerator.Options.demo(seed);
      default -> throw new IllegalArgumentException("unknown synthetic data '" + spec
          + "' (accepted: synthetic:small, synthetic:demo, optionally :seed)");
    };
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
