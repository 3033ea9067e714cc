package dev.reranker.model;

import dev.reranker.attention.AttentionState;
import dev.reranker.attention.FavorState;
import dev.reranker.attention.SoftmaxKvCache;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One user's encoder prefix state for one model version: per layer the attention state (FAVOR+
 * [S | z] per head, constant size; or the softmax KV cache, growing), the position (events folded),
 * the last event's timestamp (for the next gap bucket) and the current user vector (the last
 * event's final hidden state, what candidates are scored against).
 *
 * <p>Compact binary form ({@link #toBytes()}), versioned: magic, format version, arm, model version,
 * position, last timestamp, user vector, layer states. {@link #byteSize()} is exactly its length.
 * Mutable (folded in place by {@link IncrementalEncoder}); not thread-safe.
 */
public final class EncoderState {

  private static final int MAGIC = 0x52524553; // "RRES"
  private static final int FORMAT_VERSION = 1;

  private final Arm arm;
  private final String modelVersion;
  private AttentionState[] layers;
  private float[] userVector; // (D)
  private long position;
  private long lastTimestamp;

  EncoderState(Arm arm, String modelVersion, AttentionState[] layers, float[] userVector,
      long position, long lastTimestamp) {
    this.arm = arm;
    this.modelVersion = modelVersion;
    this.layers = layers;
    this.userVector = userVector;
    this.position = position;
    this.lastTimestamp = lastTimestamp;
  }

  public Arm arm() {
    return arm;
  }

  /** The model version these states belong to; a state is useless to any other. */
  public String modelVersion() {
    return modelVersion;
  }

  /** Events folded so far. */
  public long position() {
    return position;
  }

  /** The last folded event's timestamp, or {@link OrderSignal#NO_PREVIOUS} before the first. */
  public long lastTimestamp() {
    return lastTimestamp;
  }

  /** A copy of the user vector (zeros before the first event). */
  public float[] userVector() {
    return userVector.clone();
  }

  float[] userVectorView() {
    return userVector;
  }

  /** Layer l's attention state. */
  public AttentionState layer(int l) {
    return layers[l];
  }

  public int layers() {
    return layers.length;
  }

  AttentionState[] layersView() {
    return layers;
  }

  void advance(long timestamp) {
    position++;
    lastTimestamp = timestamp;
  }

  /** Replaces everything (a batched catch-up or re-encode). */
  void replace(AttentionState[] newLayers, float[] newUserVector, long newPosition,
      long newLastTimestamp) {
    if (newLayers.length != layers.length || newUserVector.length != userVector.length) {
      throw new IllegalArgumentException("replacement state has another shape");
    }
    this.layers = newLayers;
    this.userVector = newUserVector;
    this.position = newPosition;
    this.lastTimestamp = newLastTimestamp;
  }

  /** The exact length of {@link #toBytes()}: what holding this state costs. */
  public long byteSize() {
    long size = 4 + 1 + 1 + 2 + modelVersion.getBytes(StandardCharsets.UTF_8).length + 8 + 8 + 4
        + 4L * userVector.length + 4;
    for (AttentionState s : layers) {
      size += s.serializedSize();
    }
    return size;
  }

  public byte[] toBytes() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream((int) Math.min(byteSize(),
        Integer.MAX_VALUE - 8));
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(MAGIC);
      out.writeByte(FORMAT_VERSION);
      out.writeByte(arm.ordinal());
      out.writeUTF(modelVersion);
      out.writeLong(position);
      out.writeLong(lastTimestamp);
      out.writeInt(userVector.length);
      for (float x : userVector) {
        out.writeFloat(x);
      }
      out.writeInt(layers.length);
      for (AttentionState s : layers) {
        s.writeTo(out);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /**
   * Reads {@link #toBytes()}'s output.
   *
   * @throws IOException on a wrong magic or version, a truncated or corrupt form
   */
  public static EncoderState fromBytes(byte[] bytes) throws IOException {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      if (in.readInt() != MAGIC) {
        throw new IOException("not an encoder state (bad magic)");
      }
      int version = in.readUnsignedByte();
      if (version != FORMAT_VERSION) {
        throw new IOException("unsupported encoder state format version " + version);
      }
      int armCode = in.readUnsignedByte();
      if (armCode >= Arm.values().length) {
        throw new IOException("corrupt encoder state: arm code " + armCode);
      }
      Arm arm = Arm.values()[armCode];
      String modelVersion = in.readUTF();
      long position = in.readLong();
      long lastTimestamp = in.readLong();
      int dim = in.readInt();
      if (dim < 1 || dim > 1 << 16 || position < 0) {
        throw new IOException("corrupt encoder state header");
      }
      float[] user = new float[dim];
      for (int i = 0; i < dim; i++) {
        user[i] = in.readFloat();
      }
      int count = in.readInt();
      if (count < 1 || count > 1024) {
        throw new IOException("corrupt encoder state: " + count + " layers");
      }
      AttentionState[] layers = new AttentionState[count];
      for (int l = 0; l < count; l++) {
        layers[l] = arm == Arm.PERFORMER ? FavorState.readFrom(in) : SoftmaxKvCache.readFrom(in);
      }
      if (in.available() > 0) {
        throw new IOException("corrupt encoder state: " + in.available() + " trailing bytes");
      }
      return new EncoderState(arm, modelVersion, layers, user, position, lastTimestamp);
    } catch (java.io.EOFException e) {
      throw new IOException("truncated encoder state", e);
    }
  }

  public EncoderState copy() {
    AttentionState[] copies = new AttentionState[layers.length];
    for (int l = 0; l < layers.length; l++) {
      copies[l] = layers[l].copy();
    }
    return new EncoderState(arm, modelVersion, copies, userVector.clone(), position, lastTimestamp);
  }

  @Override
  public String toString() {
    return "EncoderState[" + arm.wireName() + ", model " + modelVersion + ", position " + position
        + ", " + byteSize() + " bytes, user vector " + Arrays.toString(Arrays.copyOf(userVector,
            Math.min(3, userVector.length))) + "…]";
  }
}
