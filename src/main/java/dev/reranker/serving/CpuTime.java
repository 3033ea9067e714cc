package dev.reranker.serving;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/** The current thread's CPU time, where the JVM measures it (else 0: costs then read 0). */
final class CpuTime {
  private CpuTime() {}

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
  private static final boolean SUPPORTED = THREADS.isCurrentThreadCpuTimeSupported();

  /** CPU nanoseconds the current thread has used (≈ 1 µs to read: clock_gettime). */
  static long thread() {
    return SUPPORTED ? THREADS.getCurrentThreadCpuTime() : 0;
  }
}
