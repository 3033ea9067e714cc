package dev.reranker.data;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** A synthetic data set: its events, streamed user by user, each user's in time order. */
public interface InteractionGenerator {

  /** Streams the events to a consumer (for producing to Kafka without holding them). */
  void generate(Consumer<Interaction> sink);

  /** All events in a list. */
  default List<Interaction> generate() {
    List<Interaction> out = new ArrayList<>();
    generate(out::add);
    return out;
  }
}
