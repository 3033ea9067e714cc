package dev.reranker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The jar's command line: usage errors exit 2 with the reason on stderr; help exits 0. */
class CommandLineUsageTest {

  record Run(int code, String out, String err) {}

  private static Run run(String... args) {
    CommandLine cli = RerankerMain.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int code = cli.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void anUnknownCommandIsAUsageError() {
    Run r = run("frobnicate");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("Unmatched argument at index 0: 'frobnicate'");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void noCommandIsAUsageErrorThatListsTheCommands() {
    Run r = run();
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("missing command").contains("serve").contains("train");
  }

  @Test
  void helpIsNotAnError() {
    Run r = run("--help");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("serve").contains("train");
  }

  @Test
  void anUnknownOptionOfACommandIsAUsageError() {
    Run r = run("train", "--data", "x.jsonl", "--out", "m", "--no-such-option");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--no-such-option");
  }
}
