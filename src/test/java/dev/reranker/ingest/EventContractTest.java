package dev.reranker.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The interaction event contract (docs/events.md) held three ways: the JSON Schema in the jar
 * ({@code contracts/interaction-event-v1.schema.json}), every example the README and docs show,
 * and what {@link EventValidator} — the engine's one gate — accepts. Over a corpus of valid and
 * broken events the schema and the validator agree, except for the differences the contract
 * documents, which are asserted here one by one so that a new difference fails.
 */
class EventContractTest {

  private static final String SCHEMA = "contracts/interaction-event-v1.schema.json";
  /** The validator's clock: after every example's timestamp, before the year 2100. */
  private static final long NOW = 1_800_000_000_000L;
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final Pattern FENCE = Pattern.compile("(?ms)^```(\\w+)\\n(.*?)^```");

  static Schema schema;
  static EventValidator validator;

  @BeforeAll
  static void load() throws IOException {
    try (InputStream in = EventContractTest.class.getClassLoader().getResourceAsStream(SCHEMA)) {
      assertThat(in).as("the schema is packaged at " + SCHEMA).isNotNull();
      schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
          .getSchema(new String(in.readAllBytes(), StandardCharsets.UTF_8), InputFormat.JSON);
    }
    IngestSettings d = IngestSettings.defaults();
    validator = new EventValidator(d.maxRecordBytes(), d.futureTolerance().toMillis());
  }

  @Test
  void everyEventTheReadmeAndDocsShowIsValidAndAccepted() throws IOException {
    List<String> examples = new ArrayList<>();
    for (Path doc : documents()) {
      for (String block : blocks(doc, "json")) {
        for (String line : block.split("\n")) {
          if (line.startsWith("{") && JSON.readTree(line).has("eventType")) {
            examples.add(line);
          }
        }
      }
    }
    assertThat(examples).as("event examples in README.md and docs/").hasSizeGreaterThanOrEqualTo(5);
    for (String example : examples) {
      assertThat(schemaErrors(example)).as(example).isEmpty();
      String key = JSON.readTree(example).get("userId").asString();
      assertThat(validator.validate(key, bytes(example), NOW)).as(example)
          .isInstanceOf(EventValidator.Accepted.class);
    }
  }

  @Test
  void everyRefusedExampleIsRefusedWithItsReasonCode() throws IOException {
    List<String> lines = new ArrayList<>();
    for (String block : blocks(Path.of("docs/events.md"), "refused")) {
      lines.addAll(List.of(block.split("\n")));
    }
    assertThat(lines).hasSizeGreaterThanOrEqualTo(10);
    for (String line : lines) {
      String code = line.substring(0, line.indexOf(' '));
      String value = line.substring(line.indexOf(' ') + 1);
      EventValidator.Result result = validator.validate("u-7", bytes(value), NOW);
      assertThat(result).as(value).isInstanceOf(EventValidator.Rejected.class);
      assertThat(((EventValidator.Rejected) result).rejection().code().wireName()).as(value)
          .isEqualTo(code);
      // the schema sees the value alone: it refuses what is wrong in the value itself
      boolean valueAlone = !code.equals("key_mismatch") && !code.equals("future_timestamp");
      assertThat(schemaErrors(value).isEmpty()).as(value).isEqualTo(!valueAlone);
    }
  }

  @Test
  void theSchemaAndTheValidatorDisagreeOnlyWhereTheContractSays() {
    Map<String, String> corpus = corpus();
    Map<String, String> disagreements = new TreeMap<>();
    for (Map.Entry<String, String> e : corpus.entrySet()) {
      String value = e.getValue();
      boolean schemaValid = schemaErrors(value).isEmpty();
      boolean accepted = validator.validate(keyOf(value), bytes(value), NOW)
          instanceof EventValidator.Accepted;
      if (schemaValid != accepted) {
        disagreements.put(e.getKey(), accepted ? "engine only" : "schema only");
      }
    }
    System.out.println(corpus.size() + " events, disagreements: " + disagreements);
    assertThat(corpus.size()).isGreaterThan(80);
    // docs/events.md: the engine tolerates eventType's letter case and surrounding whitespace;
    // refuses integral numbers written with a fraction or exponent; counts id lengths in UTF-16
    // units (an id of 129 emoji is 258 units); refuses lone surrogates; refuses timestamps
    // beyond its clock's tolerance (the largest 64-bit one is valid JSON, and in the future)
    assertThat(disagreements).containsExactlyInAnyOrderEntriesOf(Map.ofEntries(
        Map.entry("eventType=\"VIEW\"", "engine only"),
        Map.entry("eventType=\" click \"", "engine only"),
        Map.entry("eventType=\"Add_To_Cart\"", "engine only"),
        Map.entry("timestamp=1764892800000.0", "schema only"),
        Map.entry("timestamp=1.7648928E12", "schema only"),
        Map.entry("schemaVersion=1.0", "schema only"),
        Map.entry("eventId=\"\\ud83d\\ude00\"×129", "schema only"),
        Map.entry("eventId=\"\\ud800\"", "schema only"),
        Map.entry("itemId=\"\\ud83d\\ude00\"×129", "schema only"),
        Map.entry("itemId=\"\\ud800\"", "schema only"),
        Map.entry("timestamp=9223372036854775807", "schema only")));
  }

  @Test
  void theJavaProducerInTheDocsIsTheOneTheTutorialTestRuns() throws IOException {
    String source = Files.readString(
        Path.of("src/test/java/dev/reranker/examples/InteractionProducerExample.java"));
    Matcher m = Pattern.compile("(?s)// producer-example: begin\\n(.*?)// producer-example: end")
        .matcher(source);
    assertThat(m.find()).isTrue();
    assertThat(blocks(Path.of("docs/events.md"), "java")).contains(m.group(1));
  }

  /** A valid event, then each field missing, null, and set to values either side of its rule. */
  private static Map<String, String> corpus() {
    Map<String, Object> base = new LinkedHashMap<>();
    base.put("schemaVersion", 1);
    base.put("eventId", "e-1");
    base.put("userId", "u-7");
    base.put("itemId", "sku-1");
    base.put("timestamp", 1764892800000L);
    base.put("eventType", "view");
    Map<String, String> corpus = new LinkedHashMap<>();
    corpus.put("base", json(base, null, null));
    List<String> ids = List.of("\"a\"", "\"\"", "\" \"", "\"\\u00a0\"", "\"\\u3000\"",
        "\"\\ufeff\"", "\"x y\"", "\"a\\u0000b\"", "\"a\\u001fb\"", "\"a\\u007fb\"",
        "\"a\\u0085b\"", "\"a\\u00a0b\"", "\"é\"", "\"\\ud83d\\ude00\"", "\"\\ud800\"", "42",
        "-5", "0", "1.5", "true", "[]", "{}", "null", "\"x\"×256", "\"x\"×257",
        "\"\\ud83d\\ude00\"×128", "\"\\ud83d\\ude00\"×129");
    Map<String, List<String>> values = new LinkedHashMap<>();
    values.put("schemaVersion", List.of("1", "null", "2", "0", "\"1\"", "1.0", "true"));
    values.put("eventId", ids);
    values.put("userId", List.of("\"u-7\"", "\"\"", "\" \"", "7", "1.5", "[]"));
    values.put("itemId", ids);
    values.put("timestamp", List.of("0", "-1", "1764892800000", "1764892800000.0",
        "1.7648928E12", "1764892800000.5", "\"1764892800000\"", "9223372036854775807",
        "9223372036854775808", "true", "null"));
    values.put("eventType", List.of("\"view\"", "\"click\"", "\"add_to_cart\"", "\"purchase\"",
        "\"rating\"", "\"VIEW\"", "\"Add_To_Cart\"", "\" click \"", "\"hover\"", "\"\"", "1",
        "null", "[\"view\"]"));
    for (Map.Entry<String, List<String>> field : values.entrySet()) {
      corpus.put(field.getKey() + " missing", json(base, field.getKey(), "<missing>"));
      for (String v : field.getValue()) {
        corpus.put(field.getKey() + "=" + v, json(base, field.getKey(), v));
      }
    }
    corpus.put("extra field", json(base, "source", "\"checkout\""));
    corpus.put("array", "[\"u-7\", \"sku-1\"]");
    corpus.put("string", "\"view\"");
    corpus.put("number", "17");
    return corpus;
  }

  /** The event's JSON with one field replaced by raw JSON text ({@code "x"×n}: x repeated n times). */
  private static String json(Map<String, Object> base, String field, String raw) {
    StringBuilder sb = new StringBuilder("{");
    Map<String, Object> fields = new LinkedHashMap<>(base);
    if (field != null && !fields.containsKey(field)) {
      fields.put(field, null);
    }
    for (Map.Entry<String, Object> e : fields.entrySet()) {
      String text;
      if (e.getKey().equals(field)) {
        if (raw.equals("<missing>")) {
          continue;
        }
        text = expand(raw);
      } else {
        text = JSON.writeValueAsString(e.getValue());
      }
      sb.append(sb.length() > 1 ? "," : "").append('"').append(e.getKey()).append("\":")
          .append(text);
    }
    return sb.append('}').toString();
  }

  private static String expand(String raw) {
    int times = raw.indexOf('×');
    if (times < 0) {
      return raw;
    }
    String unit = raw.substring(1, times - 1);
    return '"' + unit.repeat(Integer.parseInt(raw.substring(times + 1))) + '"';
  }

  /** The record key a correct producer would send: the event's userId as the engine reads it. */
  private static String keyOf(String value) {
    try {
      JsonNode user = JSON.readTree(value).get("userId");
      if (user != null && user.isString()) {
        return user.asString();
      }
      if (user != null && user.isIntegralNumber()) {
        return user.bigIntegerValue().toString();
      }
    } catch (RuntimeException e) {
      // not JSON: any key
    }
    return "u-7";
  }

  private static List<Error> schemaErrors(String json) {
    return schema.validate(json, InputFormat.JSON);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static List<Path> documents() throws IOException {
    List<Path> docs = new ArrayList<>(List.of(Path.of("README.md")));
    try (Stream<Path> files = Files.list(Path.of("docs"))) {
      files.filter(p -> p.toString().endsWith(".md")).sorted().forEach(docs::add);
    }
    return docs;
  }

  private static List<String> blocks(Path doc, String language) throws IOException {
    List<String> found = new ArrayList<>();
    Matcher m = FENCE.matcher(Files.readString(doc));
    while (m.find()) {
      if (m.group(1).equals(language)) {
        found.add(m.group(2));
      }
    }
    return found;
  }
}
