package dev.reranker.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;

class BoundedRocksDbMemoryTest {

  @Test
  void readsTheBudgetFromTheStreamsProperties() {
    assertThat(BoundedRocksDbMemory.memoryBytes(Map.of()))
        .isEqualTo(BoundedRocksDbMemory.DEFAULT_MEMORY_BYTES);
    assertThat(BoundedRocksDbMemory.memoryBytes(Map.of(BoundedRocksDbMemory.MEMORY_BYTES,
        "134217728"))).isEqualTo(128L << 20);
    assertThat(BoundedRocksDbMemory.memoryBytes(Map.of(BoundedRocksDbMemory.MEMORY_BYTES,
        64L << 20))).isEqualTo(64L << 20);
    assertThatThrownBy(() -> BoundedRocksDbMemory.memoryBytes(Map.of(
        BoundedRocksDbMemory.MEMORY_BYTES, "lots"))).hasMessageContaining("number of bytes");
    assertThatThrownBy(() -> BoundedRocksDbMemory.memoryBytes(Map.of(
        BoundedRocksDbMemory.MEMORY_BYTES, 1024))).hasMessageContaining("at least 16 MiB");
  }

  @Test
  void everyStoreGetsTheSharedCacheAndWriteBufferLimits() {
    RocksDB.loadLibrary();
    BoundedRocksDbMemory setter = new BoundedRocksDbMemory();
    try (Options a = new Options().setTableFormatConfig(new BlockBasedTableConfig());
        Options b = new Options().setTableFormatConfig(new BlockBasedTableConfig())) {
      setter.setConfig("history", a, Map.of());
      setter.setConfig("snapshots", b, Map.of());
      for (Options o : new Options[] {a, b}) {
        BlockBasedTableConfig t = (BlockBasedTableConfig) o.tableFormatConfig();
        assertThat(t.cacheIndexAndFilterBlocks()).isTrue();
        assertThat(o.maxWriteBufferNumber()).isEqualTo(2);
        assertThat(o.writeBufferSize()).isBetween(1L << 20, 8L << 20);
      }
    }
  }
}
