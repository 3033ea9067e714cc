package dev.reranker.testing;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * A test class that runs against one in-process broker and the real service ({@link
 * EngineHarness}), started before its first test and closed after its last, in a fresh
 * directory. Test classes run one after another, so the static harness is each class's own.
 */
public abstract class BrokerTest {

  @TempDir
  protected static Path root;
  protected static EngineHarness harness;

  @BeforeAll
  static void startBroker() throws Exception {
    harness = new EngineHarness(root);
  }

  @AfterAll
  static void closeBroker() {
    harness.close();
  }
}
