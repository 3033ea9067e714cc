package dev.reranker.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The built jar ({@code target/reranker.jar}, made by {@code package} before failsafe runs) as an
 * operating-system process: stdout and stderr to a log file, {@link #kill()} is SIGKILL, {@link
 * #terminate()} SIGTERM — what the fault tests' claims are about, not a {@code close()}.
 */
public final class JarProcess implements AutoCloseable {

  public static final Path JAR = Path.of("target/reranker.jar");

  private final Process process;
  private final Path log;
  private final String name;

  private JarProcess(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
  }

  /** Starts {@code java -jar target/reranker.jar <args>}, logging to {@code log}. */
  public static JarProcess start(String name, Path log, List<String> jvmOptions, String... args)
      throws IOException {
    return start(name, log, jvmOptions, null, java.util.Map.of(), args);
  }

  /**
   * As {@link #start(String, Path, List, String...)}, in {@code workingDirectory} (null: this
   * one) with {@code environment} added to this process's.
   */
  public static JarProcess start(String name, Path log, List<String> jvmOptions,
      Path workingDirectory, java.util.Map<String, String> environment, String... args)
      throws IOException {
    if (!Files.isRegularFile(JAR)) {
      throw new IllegalStateException(JAR + " is missing: the process tests run in failsafe, after "
          + "`package` (./mvnw verify)");
    }
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    command.addAll(jvmOptions);
    command.add("-jar");
    command.add(JAR.toAbsolutePath().toString());
    command.addAll(List.of(args));
    Files.createDirectories(log.getParent());
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    if (workingDirectory != null) {
      builder.directory(workingDirectory.toFile());
    }
    builder.environment().putAll(environment);
    Process p = builder.start();
    return new JarProcess(name, p, log);
  }

  /** Waits until the log has a line containing {@code text}; the time it took. */
  public Duration awaitLog(String text, Duration timeout) throws Exception {
    long start = System.nanoTime();
    long deadline = start + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (Files.exists(log) && Files.readString(log, StandardCharsets.UTF_8).contains(text)) {
        return Duration.ofNanos(System.nanoTime() - start);
      }
      if (!process.isAlive()) {
        throw new IllegalStateException(name + " exited (" + process.exitValue() + ") before "
            + "logging '" + text + "'; its log: " + tail());
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException(name + " did not log '" + text + "' within " + timeout
        + "; its log: " + tail());
  }

  /** Waits for the process to exit by itself; its exit code, or -1 after the timeout (killed). */
  public int awaitExit(Duration timeout) throws InterruptedException {
    if (process.waitFor(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
      return process.exitValue();
    }
    kill();
    return -1;
  }

  /** SIGKILL, and waits for the process to be gone. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
  }

  /** SIGTERM; the exit code, or -1 if it did not exit in time (then it is killed). */
  public int terminate(Duration timeout) throws InterruptedException {
    process.destroy();
    if (process.waitFor(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
      return process.exitValue();
    }
    kill();
    return -1;
  }

  public boolean alive() {
    return process.isAlive();
  }

  public long pid() {
    return process.pid();
  }

  /** The last 4,000 characters of the log. */
  public String tail() {
    try {
      String s = Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
      return s.substring(Math.max(0, s.length() - 4000));
    } catch (IOException e) {
      return "(unreadable: " + e.getMessage() + ")";
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }
}
