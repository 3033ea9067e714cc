package dev.reranker.model;

import java.util.List;

/**
 * Where one loaded model's batched state work runs: bringing many users' states up to date with
 * their new events, and re-encoding whole histories when a state is cold. One interface, three
 * implementations, chosen per model at run time ({@link EncoderBackends}):
 * <ul>
 *   <li>{@link ReferenceEncoderBackend}: event by event on plain arrays ({@link
 *   IncrementalEncoder}), the definition every other one is tested against;</li>
 *   <li>{@link Nd4jEncoderBackend}: batched ND4J passes on the CPU ({@link BatchFolder}), the
 *   default;</li>
 *   <li>{@link GpuEncoderBackend}: the FAVOR+ encoder on a CUDA GPU ({@code dev.reranker.gpu}).</li>
 * </ul>
 * A single event for a single user stays on the caller's {@link IncrementalEncoder}: below a
 * batch, any backend's fixed cost exceeds the fold itself.
 *
 * <p>Implementations are thread-safe; {@link #close()} releases what they hold (device memory).
 */
public interface EncoderBackend extends AutoCloseable {

  /**
   * One user's work.
   *
   * @param state the state to bring up to date: for the performer it continues from its position;
   *     for softmax it is replaced by the encoding of {@code items} (which must then be the user's
   *     last W events, starting at absolute position {@code firstPosition})
   * @param items item indices of the events to fold (performer) or encode (softmax)
   * @param timestamps their timestamps
   * @param firstPosition softmax: the absolute position of {@code items[0]}; performer: ignored
   *     (the state's position)
   * @param previousTimestamp softmax: the timestamp of the event before {@code items[0]}, or
   *     {@link OrderSignal#NO_PREVIOUS}; performer: ignored (the state's last timestamp)
   */
  record Work(EncoderState state, int[] items, long[] timestamps, long firstPosition,
      long previousTimestamp) {
    public Work {
      if (items.length == 0 || items.length != timestamps.length) {
        throw new IllegalArgumentException("work needs ≥ 1 event and a timestamp per event");
      }
    }
  }

  /** "reference", "nd4j" or "gpu". */
  String name();

  /** Where it runs, for logs and metrics: "CPU (ND4J, AVX-512)", the GPU's name and driver … */
  String device();

  /** Brings every state up to date; states are updated in place. */
  void fold(List<Work> work);

  @Override
  default void close() {}
}
