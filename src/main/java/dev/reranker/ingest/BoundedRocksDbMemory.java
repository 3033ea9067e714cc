package dev.reranker.ingest;

import java.util.Map;
import org.apache.kafka.streams.state.RocksDBConfigSetter;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Cache;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.WriteBufferManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds the native memory of every RocksDB store in this JVM together: one LRU block cache that
 * also holds the index and filter blocks, and a write-buffer manager that charges the memtables to
 * the same cache. Kafka Streams' default gives each store instance its own 50 MB block cache and
 * up to three 16 MB memtables, and an instance has one store instance per store and task — seven
 * stores here, so with 6 partitions on one instance up to ≈ 4 GB, growing with the partitions it is
 * assigned: no memory limit could be set from the configuration. With this, RocksDB's memory is
 * {@code reranker.rocksdb.memory-bytes} (Kafka Streams property; default 256 MiB) plus a little
 * per open store, whatever the assignment (the pattern in Kafka Streams' memory-management
 * documentation).
 *
 * <p>The cache and the manager are shared by every store of every Kafka Streams client in the
 * JVM, created by the first store that opens, and never closed (a store's close must not free what
 * the others use; the process exit does).
 */
public final class BoundedRocksDbMemory implements RocksDBConfigSetter {

  /** The Kafka Streams property with the total bytes (block cache, index, filters, memtables). */
  public static final String MEMORY_BYTES = "reranker.rocksdb.memory-bytes";
  /** Default total: 256 MiB. */
  public static final long DEFAULT_MEMORY_BYTES = 256L << 20;
  /** The share of the total the memtables may take; the rest is the block cache's. */
  static final double WRITE_BUFFER_SHARE = 0.25;
  /** The block cache's share kept for index and filter blocks (high priority). */
  static final double INDEX_FILTER_SHARE = 0.1;

  private static final Logger log = LoggerFactory.getLogger(BoundedRocksDbMemory.class);
  private static Cache cache;
  private static WriteBufferManager writeBuffers;
  private static long total;

  @Override
  public void setConfig(String storeName, Options options, Map<String, Object> configs) {
    long bytes = memoryBytes(configs);
    synchronized (BoundedRocksDbMemory.class) {
      if (cache == null) {
        total = bytes;
        cache = new LRUCache(bytes, -1, false, INDEX_FILTER_SHARE);
        writeBuffers = new WriteBufferManager((long) (bytes * WRITE_BUFFER_SHARE), cache);
        log.info("RocksDB memory for every state store together: {} MiB (memtables up to {} "
            + "MiB of it)", bytes >> 20, (long) (bytes * WRITE_BUFFER_SHARE) >> 20);
      } else if (bytes != total) {
        log.warn("{}={} ignored for store {}: the JVM's stores share the {} bytes set first",
            MEMORY_BYTES, bytes, storeName, total);
      }
    }
    BlockBasedTableConfig table = (BlockBasedTableConfig) options.tableFormatConfig();
    table.setBlockCache(cache);
    table.setCacheIndexAndFilterBlocks(true);
    table.setCacheIndexAndFilterBlocksWithHighPriority(true);
    table.setPinTopLevelIndexAndFilter(true);
    options.setTableFormatConfig(table);
    options.setWriteBufferManager(writeBuffers);
    // smaller memtables, fewer of them: many small stores, each flushed sooner
    options.setWriteBufferSize(Math.min(8L << 20, Math.max(1L << 20, bytes / 64)));
    options.setMaxWriteBufferNumber(2);
  }

  static long memoryBytes(Map<String, Object> configs) {
    Object v = configs.get(MEMORY_BYTES);
    if (v == null) {
      return DEFAULT_MEMORY_BYTES;
    }
    long bytes;
    try {
      bytes = v instanceof Number n ? n.longValue() : Long.parseLong(v.toString().trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(MEMORY_BYTES + " must be a number of bytes: " + v, e);
    }
    if (bytes < (16L << 20)) {
      throw new IllegalArgumentException(MEMORY_BYTES + " must be at least 16 MiB: " + bytes);
    }
    return bytes;
  }

  @Override
  public void close(String storeName, Options options) {
    // shared: the cache and the write-buffer manager outlive any one store
  }
}
