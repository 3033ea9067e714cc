package dev.reranker.gpu;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The CUDA driver API ({@code libcuda.so.1}, the device's own driver) through FFM: one device's
 * primary context, memory, copies, modules, launches, streams and events. Every call checks its
 * {@code CUresult} and throws {@link CudaException} with the error's name.
 *
 * <p>A context is current per thread: {@link #makeCurrent()} before using the device from a thread
 * (the encoder does so at every pass). Thread-safe as the driver is; the callers serialise their
 * own streams.
 */
public final class Cuda implements AutoCloseable {

  /** A failed driver or cuBLAS call. */
  public static final class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int code;

    CudaException(String call, int code, String name) {
      super(call + " failed: " + name + " (" + code + ")");
      this.code = code;
    }

    public int code() {
      return code;
    }
  }

  /** {@code CUDA_ERROR_NO_BINARY_FOR_GPU}: a module with no code this device runs. */
  public static final int ERROR_NO_BINARY_FOR_GPU = 209;
  private static final int ATTRIBUTE_COMPUTE_MAJOR = 75;
  private static final int ATTRIBUTE_COMPUTE_MINOR = 76;
  private static final int ATTRIBUTE_MULTIPROCESSORS = 16;

  private final NativeLibrary library;
  private final MethodHandle cuGetErrorName;
  private final MethodHandle cuCtxSetCurrent;
  private final MethodHandle cuCtxSynchronize;
  private final MethodHandle cuMemAlloc;
  private final MethodHandle cuMemFree;
  private final MethodHandle cuMemAllocHost;
  private final MethodHandle cuMemFreeHost;
  private final MethodHandle cuMemcpyHtoDAsync;
  private final MethodHandle cuMemcpyDtoHAsync;
  private final MethodHandle cuMemcpyDtoD;
  private final MethodHandle cuModuleLoadData;
  private final MethodHandle cuModuleGetFunction;
  private final MethodHandle cuLaunchKernel;
  private final MethodHandle cuStreamCreate;
  private final MethodHandle cuStreamSynchronize;
  private final MethodHandle cuEventCreate;
  private final MethodHandle cuEventRecord;
  private final MethodHandle cuEventSynchronize;
  private final MethodHandle cuEventElapsedTime;
  private final MethodHandle cuMemGetInfo;
  private final MethodHandle cuDevicePrimaryCtxRelease;
  private final int device;
  private final MemorySegment context;
  private final String deviceName;
  private final int computeMajor;
  private final int computeMinor;
  private final int multiprocessors;
  private final int driverVersion;

  private Cuda(NativeLibrary lib, int ordinal) throws GpuUnavailableException {
    this.library = lib;
    cuGetErrorName = lib.function("cuGetErrorName", FunctionDescriptor.of(JAVA_INT, JAVA_INT,
        ADDRESS));
    MethodHandle cuInit = lib.function("cuInit", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    MethodHandle cuDriverGetVersion = lib.function("cuDriverGetVersion",
        FunctionDescriptor.of(JAVA_INT, ADDRESS));
    MethodHandle cuDeviceGetCount = lib.function("cuDeviceGetCount",
        FunctionDescriptor.of(JAVA_INT, ADDRESS));
    MethodHandle cuDeviceGet = lib.function("cuDeviceGet", FunctionDescriptor.of(JAVA_INT,
        ADDRESS, JAVA_INT));
    MethodHandle cuDeviceGetName = lib.function("cuDeviceGetName", FunctionDescriptor.of(JAVA_INT,
        ADDRESS, JAVA_INT, JAVA_INT));
    MethodHandle cuDeviceGetAttribute = lib.function("cuDeviceGetAttribute",
        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    MethodHandle cuDevicePrimaryCtxRetain = lib.function("cuDevicePrimaryCtxRetain",
        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    cuDevicePrimaryCtxRelease = lib.function("cuDevicePrimaryCtxRelease_v2",
        FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    cuCtxSetCurrent = lib.function("cuCtxSetCurrent", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    cuCtxSynchronize = lib.function("cuCtxSynchronize", FunctionDescriptor.of(JAVA_INT));
    cuMemAlloc = lib.function("cuMemAlloc_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS,
        JAVA_LONG));
    cuMemFree = lib.function("cuMemFree_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
    cuMemAllocHost = lib.function("cuMemAllocHost_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS,
        JAVA_LONG));
    cuMemFreeHost = lib.function("cuMemFreeHost", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    cuMemcpyHtoDAsync = lib.function("cuMemcpyHtoDAsync_v2", FunctionDescriptor.of(JAVA_INT,
        JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS));
    cuMemcpyDtoHAsync = lib.function("cuMemcpyDtoHAsync_v2", FunctionDescriptor.of(JAVA_INT,
        ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));
    cuMemcpyDtoD = lib.function("cuMemcpyDtoDAsync_v2", FunctionDescriptor.of(JAVA_INT,
        JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS));
    cuModuleLoadData = lib.function("cuModuleLoadData", FunctionDescriptor.of(JAVA_INT, ADDRESS,
        ADDRESS));
    cuModuleGetFunction = lib.function("cuModuleGetFunction", FunctionDescriptor.of(JAVA_INT,
        ADDRESS, ADDRESS, ADDRESS));
    cuLaunchKernel = lib.function("cuLaunchKernel", FunctionDescriptor.of(JAVA_INT, ADDRESS,
        JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS,
        ADDRESS));
    cuStreamCreate = lib.function("cuStreamCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS,
        JAVA_INT));
    cuStreamSynchronize = lib.function("cuStreamSynchronize", FunctionDescriptor.of(JAVA_INT,
        ADDRESS));
    cuEventCreate = lib.function("cuEventCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS,
        JAVA_INT));
    cuEventRecord = lib.function("cuEventRecord", FunctionDescriptor.of(JAVA_INT, ADDRESS,
        ADDRESS));
    cuEventSynchronize = lib.function("cuEventSynchronize", FunctionDescriptor.of(JAVA_INT,
        ADDRESS));
    cuEventElapsedTime = lib.function("cuEventElapsedTime", FunctionDescriptor.of(JAVA_INT,
        ADDRESS, ADDRESS, ADDRESS));
    cuMemGetInfo = lib.function("cuMemGetInfo_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS,
        ADDRESS));
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(JAVA_LONG);
      int init = (int) cuInit.invokeExact(0);
      if (init != 0) {
        throw new GpuUnavailableException("cuInit failed with " + errorName(init) + " (" + init
            + ") from " + lib.path() + ": no usable NVIDIA driver or device");
      }
      check("cuDriverGetVersion", (int) cuDriverGetVersion.invokeExact(out));
      driverVersion = out.get(JAVA_INT, 0);
      check("cuDeviceGetCount", (int) cuDeviceGetCount.invokeExact(out));
      int count = out.get(JAVA_INT, 0);
      if (ordinal >= count) {
        throw new GpuUnavailableException("CUDA device " + ordinal + " requested, " + count
            + " present");
      }
      check("cuDeviceGet", (int) cuDeviceGet.invokeExact(out, ordinal));
      device = out.get(JAVA_INT, 0);
      MemorySegment name = a.allocate(256);
      check("cuDeviceGetName", (int) cuDeviceGetName.invokeExact(name, 256, device));
      deviceName = name.getString(0);
      check("cuDeviceGetAttribute", (int) cuDeviceGetAttribute.invokeExact(out,
          ATTRIBUTE_COMPUTE_MAJOR, device));
      computeMajor = out.get(JAVA_INT, 0);
      check("cuDeviceGetAttribute", (int) cuDeviceGetAttribute.invokeExact(out,
          ATTRIBUTE_COMPUTE_MINOR, device));
      computeMinor = out.get(JAVA_INT, 0);
      check("cuDeviceGetAttribute", (int) cuDeviceGetAttribute.invokeExact(out,
          ATTRIBUTE_MULTIPROCESSORS, device));
      multiprocessors = out.get(JAVA_INT, 0);
      check("cuDevicePrimaryCtxRetain", (int) cuDevicePrimaryCtxRetain.invokeExact(out, device));
      context = out.get(ADDRESS, 0);
    } catch (GpuUnavailableException | CudaException e) {
      throw e instanceof CudaException c ? new GpuUnavailableException(c.getMessage(), c)
          : (GpuUnavailableException) e;
    } catch (Throwable t) {
      throw new GpuUnavailableException("the CUDA driver failed: " + t, t);
    }
    makeCurrent();
  }

  /**
   * Loads the driver, initialises it and retains the device's primary context.
   *
   * @throws GpuUnavailableException when no driver loads or no device answers; the message says
   *     what was tried
   */
  public static Cuda open(GpuSettings settings) throws GpuUnavailableException {
    NativeLibrary lib = NativeLibrary.open("CUDA driver (libcuda.so.1)",
        settings.driverCandidates(), Arena.global());
    return new Cuda(lib, settings.device());
  }

  /** "NVIDIA H200 (sm_90, 132 SMs, driver 13.0)". */
  public String describe() {
    return deviceName + " (sm_" + computeMajor + computeMinor + ", " + multiprocessors
        + " SMs, driver " + driverVersion / 1000 + "." + driverVersion % 1000 / 10 + ", "
        + library.path() + ")";
  }

  public String deviceName() {
    return deviceName;
  }

  /** Compute capability as major·10 + minor (90 on Hopper). */
  public int computeCapability() {
    return computeMajor * 10 + computeMinor;
  }

  public int multiprocessors() {
    return multiprocessors;
  }

  /** Makes this device's primary context current on the calling thread. */
  public void makeCurrent() {
    call("cuCtxSetCurrent", () -> (int) cuCtxSetCurrent.invokeExact(context));
  }

  public void synchronize() {
    call("cuCtxSynchronize", () -> (int) cuCtxSynchronize.invokeExact());
  }

  /** Free and total device memory, bytes. */
  public long[] memoryInfo() {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment free = a.allocate(JAVA_LONG);
      MemorySegment total = a.allocate(JAVA_LONG);
      call("cuMemGetInfo", () -> (int) cuMemGetInfo.invokeExact(free, total));
      return new long[] {free.get(JAVA_LONG, 0), total.get(JAVA_LONG, 0)};
    }
  }

  /** Device memory; {@code free} it (or close the owner). */
  public long malloc(long bytes) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(JAVA_LONG);
      call("cuMemAlloc(" + bytes + " B)", () -> (int) cuMemAlloc.invokeExact(out,
          Math.max(bytes, 4L)));
      return out.get(JAVA_LONG, 0);
    }
  }

  public void free(long devicePointer) {
    if (devicePointer != 0) {
      call("cuMemFree", () -> (int) cuMemFree.invokeExact(devicePointer));
    }
  }

  /** Page-locked host memory (copies at full PCIe rate, asynchronous); {@link #freeHost} it. */
  public MemorySegment mallocHost(long bytes) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(ADDRESS);
      call("cuMemAllocHost(" + bytes + " B)", () -> (int) cuMemAllocHost.invokeExact(out,
          Math.max(bytes, 4L)));
      return out.get(ADDRESS, 0).reinterpret(Math.max(bytes, 4L));
    }
  }

  public void freeHost(MemorySegment pinned) {
    if (pinned != null && pinned.address() != 0) {
      call("cuMemFreeHost", () -> (int) cuMemFreeHost.invokeExact(pinned));
    }
  }

  public void copyToDevice(long dst, MemorySegment src, long bytes, MemorySegment stream) {
    call("cuMemcpyHtoDAsync", () -> (int) cuMemcpyHtoDAsync.invokeExact(dst, src, bytes,
        stream));
  }

  public void copyToHost(MemorySegment dst, long src, long bytes, MemorySegment stream) {
    call("cuMemcpyDtoHAsync", () -> (int) cuMemcpyDtoHAsync.invokeExact(dst, src, bytes,
        stream));
  }

  public void copyOnDevice(long dst, long src, long bytes, MemorySegment stream) {
    call("cuMemcpyDtoDAsync", () -> (int) cuMemcpyDtoD.invokeExact(dst, src, bytes, stream));
  }

  /**
   * Loads a module image (fatbin, cubin or PTX).
   *
   * @throws CudaException e.g. {@link #ERROR_NO_BINARY_FOR_GPU} when it holds no code for this
   *     device
   */
  public MemorySegment loadModule(byte[] image) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment data = a.allocate(image.length + 1L, 16);
      MemorySegment.copy(image, 0, data, JAVA_BYTE, 0, image.length);
      MemorySegment out = a.allocate(ADDRESS);
      call("cuModuleLoadData", () -> (int) cuModuleLoadData.invokeExact(out, data));
      return out.get(ADDRESS, 0);
    }
  }

  public MemorySegment function(MemorySegment module, String name) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment cName = a.allocateFrom(name);
      MemorySegment out = a.allocate(ADDRESS);
      call("cuModuleGetFunction(" + name + ")", () -> (int) cuModuleGetFunction.invokeExact(out,
          module, cName));
      return out.get(ADDRESS, 0);
    }
  }

  /**
   * Launches a 1-D grid whose kernel takes one argument, {@code args} (a struct in host memory,
   * copied by the driver at launch).
   */
  public void launch(MemorySegment function, int blocks, int threadsPerBlock,
      MemorySegment stream, MemorySegment args) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment params = a.allocate(ADDRESS);
      params.set(ADDRESS, 0, args);
      call("cuLaunchKernel", () -> (int) cuLaunchKernel.invokeExact(function, blocks, 1, 1,
          threadsPerBlock, 1, 1, 0, stream, params, MemorySegment.NULL));
    }
  }

  public MemorySegment newStream() {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(ADDRESS);
      call("cuStreamCreate", () -> (int) cuStreamCreate.invokeExact(out, 1)); // non-blocking
      return out.get(ADDRESS, 0);
    }
  }

  public void synchronize(MemorySegment stream) {
    call("cuStreamSynchronize", () -> (int) cuStreamSynchronize.invokeExact(stream));
  }

  /** An event with timing. */
  public MemorySegment newEvent() {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(ADDRESS);
      call("cuEventCreate", () -> (int) cuEventCreate.invokeExact(out, 0));
      return out.get(ADDRESS, 0);
    }
  }

  public void record(MemorySegment event, MemorySegment stream) {
    call("cuEventRecord", () -> (int) cuEventRecord.invokeExact(event, stream));
  }

  /** Milliseconds between two recorded events (waits for the second). */
  public float elapsedMillis(MemorySegment start, MemorySegment end) {
    call("cuEventSynchronize", () -> (int) cuEventSynchronize.invokeExact(end));
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(JAVA_FLOAT);
      call("cuEventElapsedTime", () -> (int) cuEventElapsedTime.invokeExact(out, start, end));
      return out.get(JAVA_FLOAT, 0);
    }
  }

  @Override
  public void close() {
    call("cuDevicePrimaryCtxRelease", () -> (int) cuDevicePrimaryCtxRelease.invokeExact(device));
  }

  @FunctionalInterface
  interface NativeCall {
    int invoke() throws Throwable;
  }

  void call(String what, NativeCall c) {
    int code;
    try {
      code = c.invoke();
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(what + ": " + t, t);
    }
    check(what, code);
  }

  private void check(String what, int code) {
    if (code != 0) {
      throw new CudaException(what, code, errorName(code));
    }
  }

  String errorName(int code) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(ADDRESS);
      int r = (int) cuGetErrorName.invokeExact(code, out);
      return r == 0 ? out.get(ADDRESS, 0).reinterpret(128).getString(0) : "CUresult " + code;
    } catch (Throwable t) {
      return "CUresult " + code;
    }
  }
}
