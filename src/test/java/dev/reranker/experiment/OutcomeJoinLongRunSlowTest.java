package dev.reranker.experiment;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reranker.data.EventType;
import dev.reranker.data.Interaction;
import dev.reranker.data.InteractionJson;
import dev.reranker.data.Topics;
import dev.reranker.testing.ManualTime;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/**
 * Must-show 7 of the durable experiments: the outcome join's state stays bounded however long the
 * experiment runs. The join's processor runs a simulated 60 days (a fixed population of users
 * coming back every day, some exposures never answered) on Kafka Streams' own {@link
 * MockProcessorContext} with in-memory stores, its wall-clock sweep driven by the simulated clock;
 * the stores' entries and bytes are measured every ten days. Aggregates: constant; per-user state:
 * one record per user and arm; pending: one horizon of traffic; the series: one point per key and
 * bucket, whatever the traffic.
 */
class OutcomeJoinLongRunSlowTest {

  static final long DAY = 86_400_000L;
  static final long START = 1_767_225_600_000L;
  static final List<String> STORES = List.of(Topics.PENDING_EXPOSURES_STORE,
      Topics.PENDING_BY_SERVED_TIME_STORE, Topics.PENDING_PER_USER_STORE,
      Topics.USER_OUTCOMES_STORE, Topics.RECENT_INTERACTIONS_STORE, Topics.ARM_AGGREGATES_STORE,
      Topics.ARM_SERIES_STORE, Topics.IGNORED_INTERACTIONS_STORE);

  static final int USERS = 1_000;

  record Size(long entries, long bytes) {}

  @Test
  void stateIsBoundedOverSixtyDays() {
    Map<Integer, Map<String, Size>> byDay = run(USERS, 60, 1.0);
    Map<Integer, Map<String, Size>> doubled = run(USERS, 20, 2.0); // twice the traffic per day

    System.out.println("| day | exposures so far | pending | user outcomes | recent | aggregates "
        + "| series | aggregate bytes |");
    System.out.println("|---:|---:|---:|---:|---:|---:|---:|---:|");
    byDay.forEach((day, s) -> System.out.printf(Locale.ROOT, "| %d | %,d | %,d | %,d | %,d | %d "
        + "| %d | %,d |%n", day, s.get("exposures so far").entries(),
        s.get(Topics.PENDING_EXPOSURES_STORE).entries(),
        s.get(Topics.USER_OUTCOMES_STORE).entries(),
        s.get(Topics.RECENT_INTERACTIONS_STORE).entries(),
        s.get(Topics.ARM_AGGREGATES_STORE).entries(), s.get(Topics.ARM_SERIES_STORE).entries(),
        s.get(Topics.ARM_AGGREGATES_STORE).bytes()));

    Map<String, Size> day10 = byDay.get(10);
    Map<String, Size> day60 = byDay.get(60);
    // constant: the aggregates (2 experiments × 2 arms); their size grows only as the latency
    // histogram's compressed counts get longer (logarithmically; its buckets are fixed)
    Map<String, Size> day30 = byDay.get(30);
    assertThat(day60.get(Topics.ARM_AGGREGATES_STORE).entries()).isEqualTo(4);
    assertThat(day60.get(Topics.ARM_AGGREGATES_STORE).bytes()).isLessThan(4 * 4096);
    assertThat(day60.get(Topics.ARM_AGGREGATES_STORE).bytes())
        .isLessThan(day30.get(Topics.ARM_AGGREGATES_STORE).bytes() * 11 / 10);
    // per user: bounded by the population, not by time
    assertThat(day60.get(Topics.USER_OUTCOMES_STORE).entries()).isLessThanOrEqualTo(USERS * 2);
    assertThat(day60.get(Topics.USER_OUTCOMES_STORE).bytes())
        .isEqualTo(day10.get(Topics.USER_OUTCOMES_STORE).bytes());
    assertThat(day60.get(Topics.RECENT_INTERACTIONS_STORE).entries()).isLessThanOrEqualTo(USERS);
    assertThat(day60.get(Topics.RECENT_INTERACTIONS_STORE).bytes())
        .isLessThan(day10.get(Topics.RECENT_INTERACTIONS_STORE).bytes() * 11 / 10);
    // pending: at most one horizon (a day) of exposures, whatever the age
    assertThat(day60.get(Topics.PENDING_EXPOSURES_STORE).entries()).isLessThan(USERS * 4);
    // one entry per user with something pending, and the marker
    assertThat(day60.get(Topics.PENDING_PER_USER_STORE).entries()).isLessThanOrEqualTo(USERS + 1);
    assertThat(day60.get(Topics.PENDING_EXPOSURES_STORE).bytes())
        .isLessThan(day10.get(Topics.PENDING_EXPOSURES_STORE).bytes() * 3 / 2);
    // the served-time index: one entry per pending exposure and its marker
    assertThat(day60.get(Topics.PENDING_BY_SERVED_TIME_STORE).entries())
        .isEqualTo(day60.get(Topics.PENDING_EXPOSURES_STORE).entries() + 1);
    // the series: a point per key and day-bucket; twice the traffic, the same number of points
    assertThat(day60.get(Topics.ARM_SERIES_STORE).entries()).isBetween(4L * 59, 4L * 61);
    assertThat(doubled.get(20).get(Topics.ARM_SERIES_STORE).entries())
        .isEqualTo(byDay.get(20).get(Topics.ARM_SERIES_STORE).entries());
    assertThat(doubled.get(20).get(Topics.ARM_AGGREGATES_STORE).entries()).isEqualTo(4);
  }

  /** Runs the join for {@code days}; the stores' sizes every ten days. */
  static Map<Integer, Map<String, Size>> run(int users, int days, double sessionsScale) {
    ManualTime time = new ManualTime(START);
    MockProcessorContext<String, byte[]> context = new MockProcessorContext<>();
    Map<String, KeyValueStore<Bytes, byte[]>> stores = new LinkedHashMap<>();
    for (String name : STORES) {
      KeyValueStore<Bytes, byte[]> store = Stores.keyValueStoreBuilder(
          Stores.inMemoryKeyValueStore(name), Serdes.Bytes(), Serdes.ByteArray())
          .withLoggingDisabled().build();
      store.init(context.getStateStoreContext(), store);
      context.addStateStore(store);
      stores.put(name, store);
    }
    OutcomeJoin.JoinProcessor join = new OutcomeJoin.JoinProcessor(new OutcomeJoin.Settings(
        Topics.EXPOSURES, Topics.OUTCOMES, Duration.ofHours(24), Duration.ofMinutes(10),
        Duration.ofDays(1)), time, reason -> {
          throw new AssertionError(reason);
        });
    join.init(context);
    var sweep = context.scheduledPunctuators().get(0).getPunctuator();
    JsonMapper json = JsonMapper.builder().build();
    SplittableRandom r = new SplittableRandom(3);
    List<String> items = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      items.add("i" + i);
    }
    Map<Integer, Map<String, Size>> sizes = new LinkedHashMap<>();
    long request = 0;
    for (int day = 1; day <= days; day++) {
      // the day in 10-minute steps: sessions spread over it, a sweep after each step
      for (int step = 0; step < 144; step++) {
        long now = START + (day - 1) * DAY + step * 600_000L;
        time.set(now);
        int sessions = (int) Math.round(users * 3 * sessionsScale / 144.0);
        for (int s = 0; s < sessions; s++) {
          String user = "u" + r.nextInt(users);
          String experiment = r.nextBoolean() ? "exp" : "other";
          ArmChoice arm = Math.floorMod(user.hashCode(), 2) == 0 ? ArmChoice.PERFORMER
              : ArmChoice.SOFTMAX;
          List<String> served = new ArrayList<>();
          for (int k = 0; k < 10; k++) {
            served.add(items.get(r.nextInt(items.size())));
          }
          Exposure e = new Exposure("q" + request++, experiment, user, arm, "v1", served,
              now + s, 0.5 + r.nextInt(200) / 10.0, 9000, r.nextInt(100) == 0, 10,
              r.nextInt(50) == 0, null, 0, false);
          join.process(new Record<String, OutcomeJoin.Input>(user,
              new OutcomeJoin.Exposed(json.writeValueAsBytes(e)), now));
          if (r.nextInt(10) < 7) { // 30 % never come back: misses at the horizon
            String item = r.nextInt(3) == 0 ? served.get(r.nextInt(10))
                : items.get(r.nextInt(items.size()));
            Interaction i = new Interaction(user, item, now + s + 1, EventType.CLICK,
                "e" + request);
            join.process(new Record<String, OutcomeJoin.Input>(user, new OutcomeJoin.Interacted(i),
                now));
          }
        }
        sweep.punctuate(now);
        context.resetForwards(); // the emitted outcomes go to a topic, not to memory
      }
      if (day % 10 == 0) {
        Map<String, Size> m = new LinkedHashMap<>();
        stores.forEach((name, store) -> m.put(name, size(store)));
        m.put("exposures so far", new Size(request, 0));
        sizes.put(day, m);
      }
    }
    return sizes;
  }

  static Size size(KeyValueStore<Bytes, byte[]> store) {
    long n = 0;
    long bytes = 0;
    try (KeyValueIterator<Bytes, byte[]> it = store.all()) {
      while (it.hasNext()) {
        KeyValue<Bytes, byte[]> kv = it.next();
        n++;
        bytes += kv.key.get().length + kv.value.length;
      }
    }
    return new Size(n, bytes);
  }
}
