package dev.reranker.serving;

import dev.reranker.model.Arm;
import dev.reranker.model.ModelArtifacts;
import dev.reranker.model.ModelConversion;
import dev.reranker.state.ActiveModel;
import dev.reranker.state.ModelRegistry;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Model lifecycle (admin): list the active model of each arm and the versions that can be activated
 * (the library directory's artifacts, and every version active since start-up, so that activating
 * the previous one rolls back). Activation swaps the arm's model at once; requests in flight finish
 * on the old one, states of the old version are dropped and rebuilt lazily for the new one.
 */
@RestController
@Tag(name = "admin")
public class ModelAdminController {

  /**
   * Where further model artifacts live (one per subdirectory); a null directory: none.
   */
  public record Library(Path directory) {}

  /** How long a replaced model's backend is kept before its resources are released. */
  static final java.time.Duration RELEASE_DELAY = java.time.Duration.ofSeconds(60);

  private final ModelRegistry models;
  private final Path library;
  private final Map<String, ModelArtifacts.TrainedModel> known = new ConcurrentHashMap<>();

  public ModelAdminController(ModelRegistry models, Library library) {
    this.models = models;
    this.library = library.directory();
    models.all().values().forEach(m -> known.put(m.version(), m.trained()));
  }

  @Operation(summary = "Active model per arm and the versions available (admin)")
  @GetMapping(path = "/admin/models", produces = MediaType.APPLICATION_JSON_VALUE)
  Map<String, Object> models() {
    scanLibrary();
    Map<String, Object> active = new LinkedHashMap<>();
    models.all().forEach((arm, m) -> active.put(arm.wireName(), m.version()));
    Map<String, Object> backends = new LinkedHashMap<>();
    models.all().forEach((arm, m) -> backends.put(arm.wireName(), m.backend().name() + ": "
        + m.backend().device()));
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("active", active);
    out.put("backends", backends);
    out.put("available", known.keySet().stream().sorted().toList());
    Map<String, Object> convertedFrom = new LinkedHashMap<>();
    models.all().forEach((arm, m) -> {
      String parent = ModelConversion.parentOf(m.trained());
      if (parent != null) {
        convertedFrom.put(arm.wireName(), parent);
      }
    });
    out.put("convertedFrom", convertedFrom);
    // true when the performer arm serves the softmax arm's own model, converted: an A/B of the
    // attention approximation alone
    // one snapshot for both arms: an activation between two reads cannot pair other versions
    Map<Arm, ActiveModel> serving = models.all();
    out.put("attentionOnly", serving.containsKey(Arm.PERFORMER)
        && serving.containsKey(Arm.SOFTMAX) && ModelConversion.isConversionOf(
            serving.get(Arm.PERFORMER).trained(), serving.get(Arm.SOFTMAX).trained()));
    return out;
  }

  @Operation(summary = "Activate a model version for its arm (admin)")
  @PostMapping(path = "/admin/models/{version}/activate",
      produces = MediaType.APPLICATION_JSON_VALUE)
  Map<String, Object> activate(@PathVariable String version) {
    scanLibrary();
    ModelArtifacts.TrainedModel model = known.get(version);
    if (model == null) {
      throw ApiProblem.notFound("version", "unknown model version '" + ApiProblem.echo(version)
          + "' (available: " + known.keySet().stream().sorted().toList() + ")");
    }
    Arm arm = model.config().arm();
    ActiveModel next = models.load(model);
    next.warmUp(); // before the swap: requests keep using the old version meanwhile
    ActiveModel replaced = models.activate(next);
    if (replaced != null) {
      // a fold that took the old model just before the swap may still be running on its backend
      Thread.ofVirtual().name("model-release-" + replaced.version()).start(() -> {
        try {
          Thread.sleep(RELEASE_DELAY);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        replaced.close();
      });
    }
    String previous = replaced == null ? null : replaced.version();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("arm", arm.wireName());
    out.put("active", version);
    out.put("previous", previous);
    return out;
  }

  private void scanLibrary() {
    if (library == null || !Files.isDirectory(library)) {
      return;
    }
    try (Stream<Path> dirs = Files.list(library)) {
      for (Path d : dirs.filter(p -> Files.exists(p.resolve(ModelArtifacts.CHECKSUMS))).toList()) {
        try {
          ModelArtifacts.TrainedModel m = ModelArtifacts.load(d);
          known.putIfAbsent(m.version(), m);
        } catch (IOException e) {
          // a broken artifact is not activatable; the others still are
        }
      }
    } catch (IOException e) {
      throw ApiProblem.unavailable("library", "model library unreadable: " + e.getMessage());
    }
  }

  List<String> versions() {
    return List.copyOf(known.keySet());
  }
}
