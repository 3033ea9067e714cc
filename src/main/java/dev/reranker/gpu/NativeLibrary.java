package dev.reranker.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A shared library opened from the first candidate that loads, and its functions by name. */
final class NativeLibrary {

  private final SymbolLookup lookup;
  private final String path;

  private NativeLibrary(SymbolLookup lookup, String path) {
    this.lookup = lookup;
    this.path = path;
  }

  /**
   * Opens the first candidate that loads: an absolute path that exists, or a bare name for the
   * dynamic loader's search path.
   *
   * @throws GpuUnavailableException naming every candidate and why it failed
   */
  static NativeLibrary open(String what, List<String> candidates, Arena arena)
      throws GpuUnavailableException {
    List<String> failures = new ArrayList<>();
    for (String candidate : candidates) {
      if (candidate.contains("/") && !Files.exists(Path.of(candidate))) {
        failures.add(candidate + ": no such file");
        continue;
      }
      try {
        SymbolLookup lookup = candidate.contains("/")
            ? SymbolLookup.libraryLookup(Path.of(candidate), arena)
            : SymbolLookup.libraryLookup(candidate, arena);
        return new NativeLibrary(lookup, candidate);
      } catch (IllegalArgumentException | IllegalCallerException e) {
        failures.add(candidate + ": " + e.getMessage());
      }
    }
    throw new GpuUnavailableException("no " + what + " could be loaded (tried " + String.join(
        "; ", failures) + ")");
  }

  String path() {
    return path;
  }

  /** The function {@code name} with the given C signature. */
  MethodHandle function(String name, FunctionDescriptor descriptor)
      throws GpuUnavailableException {
    return Linker.nativeLinker().downcallHandle(lookup.find(name).orElseThrow(
        () -> new GpuUnavailableException(path + " has no symbol " + name + " (too old a "
            + "version?)")), descriptor);
  }
}
