package dev.reranker.model;

import dev.reranker.gpu.Cublas;
import dev.reranker.gpu.GpuSettings;
import dev.reranker.gpu.GpuUnavailableException;
import java.util.Locale;

/**
 * Picks a loaded model's {@link EncoderBackend} from {@code reranker.compute} and says why: the
 * CPU stays the default and the reference; the GPU is used when asked for ({@code gpu}: a start-up
 * error when it cannot be used) or when present ({@code auto}: the CPU otherwise, with the reason).
 */
public final class EncoderBackends {

  private EncoderBackends() {}

  /** {@code reranker.compute}. */
  public enum Compute {
    /** ND4J on the CPU (the default). */
    CPU,
    /** The GPU for FAVOR+ models; refusing to start when it cannot be used. */
    GPU,
    /** The GPU when a driver, a device and cuBLAS load; else the CPU. */
    AUTO;

    public static Compute parse(String value) {
      try {
        return valueOf(value.trim().toUpperCase(Locale.ROOT));
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("reranker.compute must be cpu, gpu or auto, got '"
            + value + "'");
      }
    }
  }

  /**
   * @param maxUsers the most users one GPU pass folds (its state staging, on the device and
   *     page-locked on the host: maxUsers × the state's bytes)
   * @param mathMode GEMMs in fp32 (the default) or TF32
   */
  public record Settings(Compute compute, GpuSettings gpu, int maxUsers,
      Cublas.MathMode mathMode) {

    public static final int DEFAULT_MAX_USERS = 16_384;

    public Settings {
      if (maxUsers < 1) {
        throw new IllegalArgumentException("maxUsers must be ≥ 1, got " + maxUsers);
      }
    }

    /** The CPU, nothing else tried. */
    public static Settings cpu() {
      return new Settings(Compute.CPU, GpuSettings.defaults(), DEFAULT_MAX_USERS,
          Cublas.MathMode.FP32);
    }
  }

  /** The backend chosen and why (one log line). */
  public record Choice(EncoderBackend backend, String reason) {}

  /**
   * Chooses and opens a backend for one model.
   *
   * @throws IllegalStateException when {@code gpu} was asked for a FAVOR+ model and the GPU cannot
   *     be used (the message says why)
   */
  public static Choice choose(Settings settings, SequenceModel batched, PlainWeights plain) {
    if (settings.compute() == Compute.CPU) {
      return new Choice(new Nd4jEncoderBackend(batched, plain), "reranker.compute=cpu");
    }
    if (plain.config.arm() != Arm.PERFORMER) {
      return new Choice(new Nd4jEncoderBackend(batched, plain), "the softmax baseline runs on "
          + "the CPU (the GPU encoder is FAVOR+ only)");
    }
    try {
      GpuEncoderBackend gpu = GpuEncoderBackend.open(plain, settings.gpu(), settings.maxUsers(),
          settings.mathMode());
      return new Choice(gpu, "reranker.compute=" + settings.compute().name().toLowerCase(
          Locale.ROOT) + ": " + gpu.device());
    } catch (GpuUnavailableException | RuntimeException e) {
      if (settings.compute() == Compute.GPU) {
        throw new IllegalStateException("reranker.compute=gpu, but the GPU cannot be used: "
            + e.getMessage(), e);
      }
      return new Choice(new Nd4jEncoderBackend(batched, plain),
          "reranker.compute=auto, no GPU: " + e.getMessage());
    } catch (LinkageError e) { // FFM refused (native access disabled) or a broken library
      if (settings.compute() == Compute.GPU) {
        throw new IllegalStateException("reranker.compute=gpu, but the GPU cannot be used: " + e,
            e);
      }
      return new Choice(new Nd4jEncoderBackend(batched, plain),
          "reranker.compute=auto, no GPU: " + e);
    }
  }
}
