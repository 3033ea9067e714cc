package dev.reranker.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarInputStream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/**
 * The built service jar against the repository's licence files: it carries LICENSE, NOTICE and
 * THIRD-PARTY.txt under META-INF as they are in the repository; NOTICE holds the NOTICE file of
 * every jar it bundles (Apache-2.0 section 4(d)); THIRD-PARTY.txt names every bundled jar. A
 * dependency change that brings a new notice or component fails here until
 * {@code scripts/third-party-notices.sh} has been run.
 */
class ThirdPartyNoticesIntegrationTest {

  private static final Path JAR = Path.of("target/reranker.jar");
  private static final Pattern NOTICE = Pattern.compile("(?i)^(META-INF/)?NOTICE(\\.txt|\\.md)?$");
  /** THIRD-PARTY.txt's coordinates: (group:artifact:version - url). */
  private static final Pattern COORDINATES = Pattern.compile("\\(([^:()\\s]+):([^:()\\s]+):"
      + "([^\\s()]+) - ");

  @Test
  void theJarCarriesTheLicenceFilesAndEveryBundledNotice() throws IOException {
    assertThat(JAR).as("built by `package` before failsafe").isRegularFile();
    String notice = normalise(Files.readString(Path.of("NOTICE")));
    String thirdParty = Files.readString(Path.of("THIRD-PARTY.txt"));
    Set<String> components = new TreeSet<>();
    Matcher m = COORDINATES.matcher(thirdParty);
    while (m.find()) {
      components.add(m.group(2) + "-" + m.group(3));
    }
    List<String> missingNotices = new ArrayList<>();
    List<String> unlisted = new ArrayList<>();
    int bundled = 0;
    int notices = 0;
    try (ZipFile jar = new ZipFile(JAR.toFile())) {
      for (String file : List.of("LICENSE", "NOTICE", "THIRD-PARTY.txt")) {
        ZipEntry e = jar.getEntry("META-INF/" + file);
        assertThat(e).as("META-INF/" + file + " in the jar").isNotNull();
        try (InputStream in = jar.getInputStream(e)) {
          assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).as(file)
              .isEqualTo(Files.readString(Path.of(file)));
        }
      }
      for (ZipEntry lib : jar.stream().filter(e -> e.getName().startsWith("BOOT-INF/lib/")
          && e.getName().endsWith(".jar")).toList()) {
        bundled++;
        String name = lib.getName().substring("BOOT-INF/lib/".length());
        if (components.stream().noneMatch(c -> name.startsWith(c + "-") || name.equals(c
            + ".jar"))) {
          unlisted.add(name);
        }
        try (JarInputStream in = new JarInputStream(jar.getInputStream(lib))) {
          for (ZipEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
            if (NOTICE.matcher(e.getName()).matches()) {
              notices++;
              if (!notice.contains(normalise(new String(in.readAllBytes(),
                  StandardCharsets.UTF_8)))) {
                missingNotices.add(name + "!" + e.getName());
              }
              break;
            }
          }
        }
      }
    }
    System.out.println(bundled + " bundled jars, " + notices + " with a NOTICE, "
        + components.size() + " components in THIRD-PARTY.txt");
    assertThat(bundled).isGreaterThan(100);
    assertThat(notices).isGreaterThan(20);
    assertThat(missingNotices).as("notices NOTICE lacks (run scripts/third-party-notices.sh)")
        .isEmpty();
    assertThat(unlisted).as("jars THIRD-PARTY.txt lacks (run scripts/third-party-notices.sh)")
        .isEmpty();
  }

  private static String normalise(String s) {
    return s.replace("\r", "").replaceAll("\\s+", " ").strip();
  }
}
