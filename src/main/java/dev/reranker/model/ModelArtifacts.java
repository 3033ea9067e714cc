package dev.reranker.model;

import dev.reranker.attention.FavorProjection;
import dev.reranker.attention.FeatureMap;
import dev.reranker.data.IdMap;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * A trained model on disk: a directory of four files.
 * <pre>
 *   model.json        format and version, the model version, config, provenance, metrics
 *   weights.bin       every weight tensor (name, shape, float32) and the FAVOR+ projections
 *   items.json        the item ids, in embedding-row order
 *   checksums.sha256  SHA-256 of the three files above ("hex  name" lines)
 * </pre>
 * Loading verifies every checksum first and refuses a missing, truncated or altered file with a
 * message that names it ({@link InvalidArtifactException}). The model version is the arm plus the
 * first 12 hex digits of weights.bin's SHA-256: content-addressed, so equal weights give equal
 * versions and per-user states can name the exact model they belong to. {@code load(save(m))}
 * gives back the same floats, bit for bit.
 */
public final class ModelArtifacts {

  public static final String MODEL_JSON = "model.json";
  public static final String WEIGHTS = "weights.bin";
  public static final String ITEMS = "items.json";
  public static final String CHECKSUMS = "checksums.sha256";
  /** The artifact format this build writes and reads. */
  public static final int FORMAT_VERSION = 1;

  private static final int WEIGHTS_MAGIC = 0x52524B57; // "RRKW"
  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(SerializationFeature.INDENT_OUTPUT).build();

  private ModelArtifacts() {}

  /** An artifact that cannot be used; the message says which file and why. */
  public static final class InvalidArtifactException extends IOException {
    private static final long serialVersionUID = 1L;

    public InvalidArtifactException(String message) {
      super(message);
    }
  }

  /**
   * A trained model: what an artifact holds.
   *
   * @param version content-addressed ({@link #versionOf})
   * @param provenance seed, data file and hash, git commit, date, versions of Java and ND4J …
   * @param metrics evaluation results recorded at training time
   */
  public record TrainedModel(ModelConfig config, ModelWeights weights, IdMap items, String version,
      Map<String, Object> provenance, Map<String, Object> metrics) {

    public TrainedModel {
      if (items.size() != config.items()) {
        throw new IllegalArgumentException("config has " + config.items() + " items, id map "
            + items.size());
      }
    }

    /** A model whose version is computed from its weights. */
    public static TrainedModel of(ModelConfig config, ModelWeights weights, IdMap items,
        Map<String, Object> provenance, Map<String, Object> metrics) {
      return new TrainedModel(config, weights, items, versionOf(config, weights), provenance,
          metrics);
    }

    public SequenceModel sequenceModel() {
      return new SequenceModel(config, weights);
    }

    public PlainWeights plainWeights() {
      return new PlainWeights(config, weights, version);
    }
  }

  /** arm + "-" + 12 hex digits of the weights file's SHA-256. */
  public static String versionOf(ModelConfig config, ModelWeights weights) {
    return config.arm().wireName() + "-" + sha256(weightsBytes(weights)).substring(0, 12);
  }

  /** Writes the artifact into {@code dir} (created if needed; existing files replaced). */
  public static void save(TrainedModel model, Path dir) throws IOException {
    Files.createDirectories(dir);
    byte[] weights = weightsBytes(model.weights());
    String version = model.config().arm().wireName() + "-" + sha256(weights).substring(0, 12);
    if (!version.equals(model.version())) {
      throw new IllegalArgumentException("model version " + model.version()
          + " does not match its weights (" + version + ")");
    }
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("format", "reranker-model");
    doc.put("formatVersion", FORMAT_VERSION);
    doc.put("version", model.version());
    doc.put("config", configMap(model.config()));
    doc.put("provenance", model.provenance());
    doc.put("metrics", model.metrics());
    byte[] json = (JSON.writeValueAsString(doc) + "\n").getBytes(StandardCharsets.UTF_8);
    byte[] items = (JSON.writeValueAsString(model.items().ids()) + "\n")
        .getBytes(StandardCharsets.UTF_8);
    Files.write(dir.resolve(WEIGHTS), weights);
    Files.write(dir.resolve(ITEMS), items);
    Files.write(dir.resolve(MODEL_JSON), json);
    String checksums = sha256(json) + "  " + MODEL_JSON + "\n" + sha256(weights) + "  " + WEIGHTS
        + "\n" + sha256(items) + "  " + ITEMS + "\n";
    Files.writeString(dir.resolve(CHECKSUMS), checksums);
  }

  /** Loads and verifies an artifact directory. */
  public static TrainedModel load(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new InvalidArtifactException("model artifact " + dir + " is not a directory");
    }
    return load(dir.toString(), name -> {
      Path p = dir.resolve(name);
      return Files.exists(p) ? Files.readAllBytes(p) : null;
    });
  }

  /** Loads and verifies an artifact from the classpath (e.g. the bundled demo model). */
  public static TrainedModel loadResource(String directory) throws IOException {
    String base = directory.endsWith("/") ? directory : directory + "/";
    return load("classpath:" + base, name -> {
      try (InputStream in = ModelArtifacts.class.getClassLoader()
          .getResourceAsStream(base + name)) {
        return in == null ? null : in.readAllBytes();
      }
    });
  }

  private interface FileReader {
    byte[] read(String name) throws IOException;
  }

  /** What loading reads before building any array: verified files, config, tensors. */
  private record Verified(ModelConfig config, Tensors tensors, List<String> ids, String version,
      JsonNode doc) {}

  /** weights.bin parsed: row-major float tensors by name, their shapes, the projections. */
  private record Tensors(Map<String, float[]> data, Map<String, long[]> shapes,
      List<FavorProjection> projections) {}

  private static TrainedModel load(String where, FileReader files) throws IOException {
    Verified v = verify(where, files);
    ModelWeights weights;
    try {
      Map<String, INDArray> arrays = new LinkedHashMap<>();
      v.tensors().data().forEach((name, data) ->
          arrays.put(name, Nd4j.create(data, v.tensors().shapes().get(name), 'c')));
      weights = ModelWeights.of(v.config(), arrays, v.tensors().projections());
    } catch (RuntimeException e) {
      throw new InvalidArtifactException(where + ": " + WEIGHTS + " does not fit the config: "
          + e.getMessage());
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> provenance = JSON.convertValue(v.doc().get("provenance"), Map.class);
    @SuppressWarnings("unchecked")
    Map<String, Object> metrics = JSON.convertValue(v.doc().get("metrics"), Map.class);
    return new TrainedModel(v.config(), weights, IdMap.of(v.ids()), v.version(), provenance,
        metrics);
  }

  /**
   * Loads and verifies an artifact directory into the plain-array weights only, without ND4J (no
   * native library is loaded): for the GPU device check, which brings no ND4J natives. The same
   * checks as {@link #load(Path)}; shapes are checked against the config here.
   */
  public static PlainWeights loadPlain(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new InvalidArtifactException("model artifact " + dir + " is not a directory");
    }
    String where = dir.toString();
    Verified v = verify(where, name -> {
      Path p = dir.resolve(name);
      return Files.exists(p) ? Files.readAllBytes(p) : null;
    });
    ModelConfig c = v.config();
    Map<String, long[]> expected = new LinkedHashMap<>();
    expected.put(ModelWeights.ITEM_EMBEDDING, new long[] {c.items(), c.dim()});
    expected.put(ModelWeights.INDEX_EMBEDDING, new long[] {OrderSignal.INDEX_BUCKETS, c.dim()});
    expected.put(ModelWeights.GAP_EMBEDDING, new long[] {OrderSignal.GAP_BUCKETS, c.dim()});
    for (int l = 0; l < c.layers(); l++) {
      for (String part : List.of("ln1.gain", "ln1.bias", "attn.bo", "ln2.gain", "ln2.bias",
          "ffn.b2")) {
        expected.put(ModelWeights.p(l, part), new long[] {1, c.dim()});
      }
      for (String part : List.of("attn.wq", "attn.wk", "attn.wv", "attn.wo")) {
        expected.put(ModelWeights.p(l, part), new long[] {c.dim(), c.dim()});
      }
      expected.put(ModelWeights.p(l, "ffn.w1"), new long[] {c.dim(), c.ffnDim()});
      expected.put(ModelWeights.p(l, "ffn.b1"), new long[] {1, c.ffnDim()});
      expected.put(ModelWeights.p(l, "ffn.w2"), new long[] {c.ffnDim(), c.dim()});
    }
    expected.put("final.ln.gain", new long[] {1, c.dim()});
    expected.put("final.ln.bias", new long[] {1, c.dim()});
    for (Map.Entry<String, long[]> e : expected.entrySet()) {
      long[] shape = v.tensors().shapes().get(e.getKey());
      if (shape == null || !java.util.Arrays.equals(shape, e.getValue())) {
        throw new InvalidArtifactException(where + ": " + WEIGHTS + " does not fit the config: "
            + e.getKey() + " is " + java.util.Arrays.toString(shape) + ", expected "
            + java.util.Arrays.toString(e.getValue()));
      }
    }
    int projections = c.arm() == Arm.PERFORMER ? c.layers() : 0;
    if (v.tensors().projections().size() != projections) {
      throw new InvalidArtifactException(where + ": " + WEIGHTS + " holds "
          + v.tensors().projections().size() + " projections, the config needs " + projections);
    }
    return new PlainWeights(c, v.tensors().data(), v.tensors().projections(), v.version());
  }

  private static Verified verify(String where, FileReader files) throws IOException {
    byte[] checksums = files.read(CHECKSUMS);
    if (checksums == null) {
      throw new InvalidArtifactException(where + ": missing " + CHECKSUMS
          + " (not a model artifact, or an incomplete copy)");
    }
    Map<String, String> expected = new LinkedHashMap<>();
    for (String line : new String(checksums, StandardCharsets.UTF_8).split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      String[] parts = line.trim().split("\\s+");
      if (parts.length != 2 || parts[0].length() != 64) {
        throw new InvalidArtifactException(where + ": malformed line in " + CHECKSUMS + ": '"
            + line + "'");
      }
      expected.put(parts[1], parts[0]);
    }
    Map<String, byte[]> content = new LinkedHashMap<>();
    for (String name : List.of(MODEL_JSON, WEIGHTS, ITEMS)) {
      if (!expected.containsKey(name)) {
        throw new InvalidArtifactException(where + ": " + CHECKSUMS + " lists no checksum for "
            + name);
      }
      byte[] bytes = files.read(name);
      if (bytes == null) {
        throw new InvalidArtifactException(where + ": missing " + name);
      }
      String actual = sha256(bytes);
      if (!actual.equals(expected.get(name))) {
        throw new InvalidArtifactException(where + ": checksum mismatch for " + name
            + " (expected " + expected.get(name) + ", got " + actual
            + "): the file is truncated or was altered");
      }
      content.put(name, bytes);
    }
    JsonNode doc;
    try {
      doc = JSON.readTree(content.get(MODEL_JSON));
    } catch (RuntimeException e) {
      throw new InvalidArtifactException(where + ": " + MODEL_JSON + " is not valid JSON");
    }
    if (!"reranker-model".equals(doc.path("format").asString(""))) {
      throw new InvalidArtifactException(where + ": " + MODEL_JSON + " is not a reranker model");
    }
    int format = doc.path("formatVersion").asInt(-1);
    if (format != FORMAT_VERSION) {
      throw new InvalidArtifactException(where + ": artifact format version " + format
          + " is not supported by this build (reads " + FORMAT_VERSION + ")");
    }
    ModelConfig config;
    try {
      config = config(doc.get("config"));
    } catch (RuntimeException e) {
      throw new InvalidArtifactException(where + ": bad config in " + MODEL_JSON + ": "
          + e.getMessage());
    }
    List<String> ids = new ArrayList<>();
    for (JsonNode id : JSON.readTree(content.get(ITEMS))) {
      ids.add(id.asString());
    }
    Tensors tensors;
    try {
      tensors = readTensors(content.get(WEIGHTS));
    } catch (IOException | RuntimeException e) {
      throw new InvalidArtifactException(where + ": " + WEIGHTS + " does not fit the config: "
          + e.getMessage());
    }
    String version = doc.path("version").asString("");
    String computed = config.arm().wireName() + "-" + sha256(content.get(WEIGHTS)).substring(0, 12);
    if (!computed.equals(version)) {
      throw new InvalidArtifactException(where + ": model version " + version
          + " does not match its weights (" + computed + ")");
    }
    return new Verified(config, tensors, ids, version, doc);
  }

  static byte[] weightsBytes(ModelWeights weights) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(WEIGHTS_MAGIC);
      out.writeInt(FORMAT_VERSION);
      out.writeInt(weights.arrays().size());
      for (Map.Entry<String, INDArray> e : weights.arrays().entrySet()) {
        INDArray a = e.getValue();
        out.writeUTF(e.getKey());
        out.writeInt(a.rank());
        for (long s : a.shape()) {
          out.writeLong(s);
        }
        for (float x : a.castTo(DataType.FLOAT).dup('c').data().asFloat()) {
          out.writeFloat(x);
        }
      }
      out.writeInt(weights.projections().size());
      for (FavorProjection p : weights.projections()) {
        p.writeTo(out);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  private static Tensors readTensors(byte[] bytes) throws IOException {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      if (in.readInt() != WEIGHTS_MAGIC) {
        throw new IOException("bad magic");
      }
      if (in.readInt() != FORMAT_VERSION) {
        throw new IOException("unsupported weights format");
      }
      int count = in.readInt();
      Map<String, float[]> arrays = new LinkedHashMap<>();
      Map<String, long[]> shapes = new LinkedHashMap<>();
      for (int t = 0; t < count; t++) {
        String name = in.readUTF();
        int rank = in.readInt();
        if (rank < 1 || rank > 4) {
          throw new IOException("tensor " + name + " has rank " + rank);
        }
        long[] shape = new long[rank];
        long length = 1;
        for (int r = 0; r < rank; r++) {
          shape[r] = in.readLong();
          length *= shape[r];
        }
        if (length < 1 || length > (1L << 31) - 16 || length * 4 > in.available()) {
          throw new IOException("tensor " + name + " has an impossible shape");
        }
        float[] data = new float[(int) length];
        for (int i = 0; i < data.length; i++) {
          data[i] = in.readFloat();
        }
        arrays.put(name, data);
        shapes.put(name, shape);
      }
      int projections = in.readInt();
      List<FavorProjection> list = new ArrayList<>();
      for (int i = 0; i < projections; i++) {
        list.add(FavorProjection.readFrom(in));
      }
      if (in.available() > 0) {
        throw new IOException(in.available() + " trailing bytes");
      }
      return new Tensors(arrays, shapes, list);
    }
  }

  static Map<String, Object> configMap(ModelConfig c) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("items", c.items());
    m.put("dim", c.dim());
    m.put("layers", c.layers());
    m.put("heads", c.heads());
    m.put("ffnDim", c.ffnDim());
    m.put("attention", c.arm().wireName());
    m.put("kernel", c.kernel().name().toLowerCase());
    m.put("features", c.features());
    m.put("rowNorms", c.rowNorms().name().toLowerCase());
    m.put("chunk", c.chunk());
    m.put("dropout", c.dropout());
    m.put("seed", c.seed());
    return m;
  }

  private static ModelConfig config(JsonNode n) {
    if (n == null || !n.isObject()) {
      throw new IllegalArgumentException("missing");
    }
    return ModelConfig.builder(n.path("items").asInt(), Arm.parse(n.path("attention").asString()))
        .dim(n.path("dim").asInt()).layers(n.path("layers").asInt()).heads(n.path("heads").asInt())
        .ffnDim(n.path("ffnDim").asInt())
        .kernel(FeatureMap.Kernel.valueOf(n.path("kernel").asString().toUpperCase()))
        .features(n.path("features").asInt())
        .rowNorms(FavorProjection.RowNorms.valueOf(n.path("rowNorms").asString() .toUpperCase()))
        .chunk(n.path("chunk").asInt()).dropout(n.path("dropout").asDouble())
        .seed(n.path("seed").asLong()).build();
  }

  /** Hex SHA-256 of bytes. */
  public static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
