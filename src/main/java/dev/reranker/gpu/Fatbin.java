package dev.reranker.gpu;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * A CUDA fatbin: the container {@code nvcc -fatbin} writes, one entry per architecture, each
 * machine code (ELF, for one sm_XY) or PTX (for a compute_XY, compiled by the driver on load).
 * The layout (little-endian): a 16-byte header (magic 0xBA55ED50, version, header size, payload
 * size), then entries, each with a header of its own: kind (1 PTX, 2 ELF) at 0, header size at 4,
 * padded payload size at 8, architecture at 28.
 *
 * <p>The project ships {@value #RESOURCE}: sm_90 machine code for Hopper and compute_90 PTX for
 * anything newer (the driver JIT-compiles it). ND4J's CUDA build is the counter-example: sm_37 to
 * sm_86 machine code and no PTX, so nothing in it loads on sm_90.
 */
public record Fatbin(byte[] image, List<Entry> entries) {

  /** The kernels of {@code src/main/cuda/favor_encoder.cu}, built by gpu/build-fatbin.sh. */
  public static final String RESOURCE = "gpu/favor_encoder.fatbin";
  /** The SHA-256 of the source it was built from, beside it. */
  public static final String SOURCE_HASH_RESOURCE = "gpu/favor_encoder.fatbin.source-sha256";

  private static final int MAGIC = 0xBA55ED50;

  /** One architecture's code. */
  public record Entry(Kind kind, int architecture, int payloadBytes) {
    @Override
    public String toString() {
      return (kind == Kind.ELF ? "sm_" : "compute_") + architecture + " " + kind;
    }
  }

  public enum Kind {
    PTX,
    ELF
  }

  /**
   * Parses a fatbin's entry table.
   *
   * @throws IllegalArgumentException when it is not one (bad magic, truncated, unknown kind)
   */
  public static Fatbin parse(byte[] image) {
    ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
    if (image.length < 16 || b.getInt(0) != MAGIC) {
      throw new IllegalArgumentException("not a CUDA fatbin (magic " + (image.length < 4 ? "none"
          : "0x" + Integer.toHexString(b.getInt(0))) + ")");
    }
    int headerSize = Short.toUnsignedInt(b.getShort(6));
    long size = b.getLong(8);
    if (headerSize + size > image.length) {
      throw new IllegalArgumentException("truncated fatbin: header says " + (headerSize + size)
          + " bytes, have " + image.length);
    }
    List<Entry> entries = new ArrayList<>();
    long offset = headerSize;
    while (offset < headerSize + size) {
      if (offset + 32 > image.length) {
        throw new IllegalArgumentException("truncated fatbin entry at " + offset);
      }
      int at = (int) offset;
      int kind = Short.toUnsignedInt(b.getShort(at));
      long entryHeader = Integer.toUnsignedLong(b.getInt(at + 4));
      long payload = Integer.toUnsignedLong(b.getInt(at + 8));
      int arch = b.getInt(at + 28);
      if (kind != 1 && kind != 2 || entryHeader < 32) {
        throw new IllegalArgumentException("unknown fatbin entry (kind " + kind + ", header "
            + entryHeader + ") at " + offset);
      }
      entries.add(new Entry(kind == 1 ? Kind.PTX : Kind.ELF, arch, (int) payload));
      offset += entryHeader + payload;
    }
    return new Fatbin(image, List.copyOf(entries));
  }

  /** The shipped kernels, from the classpath. */
  public static Fatbin shipped() throws IOException {
    try (InputStream in = Fatbin.class.getClassLoader().getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IOException(RESOURCE + " is not on the classpath");
      }
      return parse(in.readAllBytes());
    }
  }

  /** Whether it holds machine code for {@code arch} or PTX the driver can compile for it. */
  public boolean runsOn(int arch) {
    // machine code runs within its major version on equal or later minors (sm_80 on sm_86)
    return entries.stream().anyMatch(e -> e.kind() == Kind.ELF && e.architecture() / 10 == arch
        / 10 && e.architecture() <= arch || e.kind() == Kind.PTX && e.architecture() <= arch);
  }
}
