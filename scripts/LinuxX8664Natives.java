import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Enumeration;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Rewrites jars in place keeping only the native libraries for linux-x86_64 (glibc): RocksDB,
 * zstd, snappy and lz4 ship theirs for every platform (RocksDB alone 14 of them, ~240 MB
 * unpacked), of which the container runs one. A native library is a .so, .dll, .jnilib or .dylib
 * entry; it is kept when its path names Linux and x86-64 (amd64, x86_64, linux64) and not musl.
 * Every other entry is copied unchanged. Prints what it removed.
 *
 * <p>java scripts/LinuxX8664Natives.java JAR...   (the Dockerfile's build stage runs it)
 */
public final class LinuxX8664Natives {

  public static void main(String[] args) throws IOException {
    long removedBytes = 0;
    int removed = 0;
    for (String arg : args) {
      Path jar = Path.of(arg);
      Path out = jar.resolveSibling(jar.getFileName() + ".tmp");
      boolean changed = false;
      try (ZipFile in = new ZipFile(jar.toFile());
          ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(out))) {
        Enumeration<? extends ZipEntry> entries = in.entries();
        while (entries.hasMoreElements()) {
          ZipEntry e = entries.nextElement();
          if (isNative(e.getName()) && !isLinuxX8664(e.getName())) {
            removed++;
            removedBytes += e.getSize();
            changed = true;
            continue;
          }
          ZipEntry copy = new ZipEntry(e.getName());
          copy.setTime(e.getTime());
          zip.putNextEntry(copy);
          in.getInputStream(e).transferTo(zip);
          zip.closeEntry();
        }
      }
      if (changed) {
        Files.move(out, jar, StandardCopyOption.REPLACE_EXISTING);
      } else {
        Files.delete(out);
      }
    }
    System.out.printf("removed %d native libraries for other platforms (%.0f MB unpacked)%n",
        removed, removedBytes / 1e6);
  }

  static boolean isNative(String name) {
    return name.endsWith(".so") || name.endsWith(".dll") || name.endsWith(".jnilib")
        || name.endsWith(".dylib");
  }

  static boolean isLinuxX8664(String name) {
    String n = name.toLowerCase(java.util.Locale.ROOT);
    return n.contains("linux") && !n.contains("musl")
        && (n.contains("amd64") || n.contains("x86_64") || n.contains("x86-64")
            || n.contains("linux64"));
  }
}
