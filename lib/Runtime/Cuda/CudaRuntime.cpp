//===- CudaRuntime.cpp - Host runtime of CUDA models ------------*- C++ -*-===//
//
// This file implements libtmcrt_cuda.so over the CUDA driver API: the mgpu*
// functions that the host code of a `--target=cuda` model calls (as MLIR's
// gpu-to-llvm lowering and the gpu.binary translation emit them), and the
// tmc_cuda_* buffer functions of tmc-rt/Cuda.h.
//
// The mgpu* functions cannot return errors to the generated code: each
// records the first failure (tmc_cuda_error) and returns a null handle;
// the loader checks the error after every call of the model.
//
//===----------------------------------------------------------------------===//

#include "tmc-rt/Cuda.h"

#include <cuda.h>

#include <algorithm>
#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace {

std::mutex errorMutex;
std::string firstError;
bool hasError = false;

/// Keeps the first error only: later ones are usually its consequences.
__attribute__((format(printf, 1, 2))) void recordError(const char *fmt, ...) {
  std::lock_guard<std::mutex> lock(errorMutex);
  if (hasError)
    return;
  char buffer[512];
  va_list args;
  va_start(args, fmt);
  vsnprintf(buffer, sizeof(buffer), fmt, args);
  va_end(args);
  firstError = buffer;
  hasError = true;
  if (std::getenv("TMC_CUDA_VERBOSE"))
    std::fprintf(stderr, "libtmcrt_cuda: %s\n", buffer);
}

/// Checks a driver call; records "<what>: <CUDA error name and text>".
bool check(CUresult result, const char *what) {
  if (result == CUDA_SUCCESS)
    return true;
  const char *name = nullptr, *text = nullptr;
  cuGetErrorName(result, &name);
  cuGetErrorString(result, &text);
  recordError("%s: %s (%s)", what, name ? name : "unknown CUDA error",
              text ? text : "no description");
  return false;
}

/// The primary context of the selected device, retained once.
CUcontext context = nullptr;
std::once_flag contextOnce;

/// Makes the context current on this thread, creating it on first use.
bool ensureContext() {
  std::call_once(contextOnce, [] {
    if (!check(cuInit(0), "cuInit"))
      return;
    int ordinal = 0;
    if (const char *env = std::getenv("TMC_CUDA_DEVICE"))
      ordinal = std::atoi(env);
    CUdevice device;
    if (!check(cuDeviceGet(&device, ordinal), "cuDeviceGet"))
      return;
    CUcontext primary = nullptr;
    if (!check(cuDevicePrimaryCtxRetain(&primary, device),
               "cuDevicePrimaryCtxRetain"))
      return;
    context = primary;
  });
  if (!context) {
    recordError("no CUDA context (no GPU or no driver?)");
    return false;
  }
  return check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
}

/// Kernel timing (tmc_cuda_profile_*): the names of the kernels looked up
/// while profiling, the launches timed since the start, and the last
/// profile's totals.
struct TimedLaunch {
  CUfunction function;
  CUevent start, end;
};
std::mutex profileMutex;
/// Read without the lock by every launch; set and cleared under it.
std::atomic<bool> profiling{false};
std::map<CUfunction, std::string> kernelNames;
std::vector<TimedLaunch> timedLaunches;
std::vector<std::pair<std::string, tmc_kernel_time>> profileTotals;

/// Destroys the events of the timed launches and forgets them.
void dropTimedLaunches() {
  for (TimedLaunch &launch : timedLaunches) {
    cuEventDestroy(launch.start);
    cuEventDestroy(launch.end);
  }
  timedLaunches.clear();
}

} // namespace

//===----------------------------------------------------------------------===//
// The functions the generated host code calls.
//===----------------------------------------------------------------------===//

extern "C" {

TMC_RT_API CUmodule mgpuModuleLoad(void *data, size_t /*size*/) {
  CUmodule module = nullptr;
  if (ensureContext())
    check(cuModuleLoadData(&module, data), "cuModuleLoadData");
  return module;
}

TMC_RT_API CUmodule mgpuModuleLoadJIT(void *data, int optLevel) {
  CUmodule module = nullptr;
  if (!ensureContext())
    return nullptr;
  char log[4096] = {0};
  CUjit_option options[] = {CU_JIT_OPTIMIZATION_LEVEL, CU_JIT_ERROR_LOG_BUFFER,
                            CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {reinterpret_cast<void *>(intptr_t(optLevel)), log,
                    reinterpret_cast<void *>(sizeof(log))};
  if (!check(cuModuleLoadDataEx(&module, data, 3, options, values),
             "cuModuleLoadDataEx (PTX JIT)"))
    recordError("JIT log: %s", log);
  return module;
}

TMC_RT_API void mgpuModuleUnload(CUmodule module) {
  if (module && context)
    check(cuModuleUnload(module), "cuModuleUnload");
}

TMC_RT_API CUfunction mgpuModuleGetFunction(CUmodule module, const char *name) {
  CUfunction function = nullptr;
  if (!module) {
    recordError("kernel %s: its module was not loaded", name);
    return nullptr;
  }
  // The generated code looks its kernel up before every launch, so while
  // profiling the launches' names are recorded here; otherwise this stays
  // off the launch path.
  if (check(cuModuleGetFunction(&function, module, name), name) &&
      profiling.load(std::memory_order_relaxed)) {
    std::lock_guard<std::mutex> lock(profileMutex);
    kernelNames[function] = name;
  }
  return function;
}

TMC_RT_API void mgpuLaunchKernel(CUfunction function, intptr_t gridX,
                                 intptr_t gridY, intptr_t gridZ,
                                 intptr_t blockX, intptr_t blockY,
                                 intptr_t blockZ, int32_t sharedMemBytes,
                                 CUstream stream, void **params, void **extra,
                                 size_t /*paramsCount*/) {
  if (!function || !ensureContext())
    return;
  if (sharedMemBytes > 48 * 1024)
    check(cuFuncSetAttribute(function,
                             CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                             sharedMemBytes),
          "cuFuncSetAttribute (dynamic shared memory)");
  auto launch = [&] {
    check(cuLaunchKernel(function, gridX, gridY, gridZ, blockX, blockY, blockZ,
                         sharedMemBytes, stream, params, extra),
          "cuLaunchKernel");
  };
  if (!profiling.load(std::memory_order_relaxed))
    return launch();
  // Timed between two events; if they cannot be made, the kernel still
  // runs, untimed (and the error is recorded).
  std::lock_guard<std::mutex> lock(profileMutex);
  TimedLaunch timed{function, nullptr, nullptr};
  bool timing =
      check(cuEventCreate(&timed.start, CU_EVENT_DEFAULT), "cuEventCreate") &&
      check(cuEventCreate(&timed.end, CU_EVENT_DEFAULT), "cuEventCreate") &&
      check(cuEventRecord(timed.start, stream), "cuEventRecord");
  launch();
  if (timing && check(cuEventRecord(timed.end, stream), "cuEventRecord")) {
    timedLaunches.push_back(timed);
    return;
  }
  if (timed.start)
    cuEventDestroy(timed.start);
  if (timed.end)
    cuEventDestroy(timed.end);
}

TMC_RT_API CUstream mgpuStreamCreate() {
  CUstream stream = nullptr;
  if (ensureContext())
    check(cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
  return stream;
}

TMC_RT_API void mgpuStreamDestroy(CUstream stream) {
  if (stream)
    check(cuStreamDestroy(stream), "cuStreamDestroy");
}

TMC_RT_API void mgpuStreamSynchronize(CUstream stream) {
  if (stream)
    check(cuStreamSynchronize(stream), "cuStreamSynchronize");
}

TMC_RT_API void mgpuStreamWaitEvent(CUstream stream, CUevent event) {
  if (stream && event)
    check(cuStreamWaitEvent(stream, event, 0), "cuStreamWaitEvent");
}

TMC_RT_API CUevent mgpuEventCreate() {
  CUevent event = nullptr;
  if (ensureContext())
    check(cuEventCreate(&event, CU_EVENT_DISABLE_TIMING), "cuEventCreate");
  return event;
}

TMC_RT_API void mgpuEventDestroy(CUevent event) {
  if (event)
    check(cuEventDestroy(event), "cuEventDestroy");
}

TMC_RT_API void mgpuEventSynchronize(CUevent event) {
  if (event)
    check(cuEventSynchronize(event), "cuEventSynchronize");
}

TMC_RT_API void mgpuEventRecord(CUevent event, CUstream stream) {
  if (event)
    check(cuEventRecord(event, stream), "cuEventRecord");
}

TMC_RT_API void *mgpuMemAlloc(uint64_t bytes, CUstream /*stream*/,
                              bool /*isHostShared*/) {
  return tmc_cuda_alloc(bytes);
}

TMC_RT_API void mgpuMemFree(void *device, CUstream /*stream*/) {
  tmc_cuda_free(device);
}

TMC_RT_API void mgpuMemcpy(void *dst, void *src, size_t bytes,
                           CUstream stream) {
  if (ensureContext())
    check(cuMemcpyAsync(CUdeviceptr(dst), CUdeviceptr(src), bytes, stream),
          "cuMemcpyAsync");
}

TMC_RT_API void mgpuMemset32(void *dst, unsigned int value, size_t count,
                             CUstream stream) {
  if (ensureContext())
    check(cuMemsetD32Async(CUdeviceptr(dst), value, count, stream),
          "cuMemsetD32Async");
}

TMC_RT_API void mgpuMemset16(void *dst, unsigned short value, size_t count,
                             CUstream stream) {
  if (ensureContext())
    check(cuMemsetD16Async(CUdeviceptr(dst), value, count, stream),
          "cuMemsetD16Async");
}

TMC_RT_API void mgpuSetDefaultDevice(int32_t device) {
  // The context is chosen once, by $TMC_CUDA_DEVICE; a later request for
  // another device is an error rather than a silent switch.
  if (device != 0)
    recordError("mgpuSetDefaultDevice(%d): use TMC_CUDA_DEVICE instead",
                int(device));
}

//===----------------------------------------------------------------------===//
// tmc-rt/Cuda.h
//===----------------------------------------------------------------------===//

int tmc_cuda_init(void) { return ensureContext() ? 0 : -1; }

const char *tmc_cuda_error(void) {
  std::lock_guard<std::mutex> lock(errorMutex);
  return hasError ? firstError.c_str() : nullptr;
}

void tmc_cuda_clear_error(void) {
  std::lock_guard<std::mutex> lock(errorMutex);
  hasError = false;
  firstError.clear();
}

void *tmc_cuda_alloc(size_t bytes) {
  if (bytes == 0 || !ensureContext())
    return nullptr;
  CUdeviceptr pointer = 0;
  if (!check(cuMemAlloc(&pointer, bytes), "cuMemAlloc"))
    return nullptr;
  return reinterpret_cast<void *>(pointer);
}

void tmc_cuda_free(void *device) {
  if (device && context)
    check(cuMemFree(CUdeviceptr(device)), "cuMemFree");
}

int tmc_cuda_copy_to_device(void *device, const void *host, size_t bytes) {
  if (bytes == 0)
    return 0;
  if (!ensureContext())
    return -1;
  return check(cuMemcpyHtoD(CUdeviceptr(device), host, bytes), "cuMemcpyHtoD")
             ? 0
             : -1;
}

int tmc_cuda_zero(void *device, size_t bytes) {
  if (bytes == 0)
    return 0;
  if (!ensureContext())
    return -1;
  return check(cuMemsetD8(CUdeviceptr(device), 0, bytes), "cuMemsetD8") ? 0
                                                                       : -1;
}

int tmc_cuda_copy_to_host(void *host, const void *device, size_t bytes) {
  if (bytes == 0)
    return 0;
  if (!ensureContext())
    return -1;
  return check(cuMemcpyDtoH(host, CUdeviceptr(device), bytes), "cuMemcpyDtoH")
             ? 0
             : -1;
}

int tmc_cuda_synchronize(void) {
  if (!ensureContext())
    return -1;
  return check(cuCtxSynchronize(), "cuCtxSynchronize") ? 0 : -1;
}

int tmc_cuda_device_name(char *buffer, size_t size) {
  if (!ensureContext() || !buffer || size == 0)
    return -1;
  CUdevice device;
  if (!check(cuCtxGetDevice(&device), "cuCtxGetDevice"))
    return -1;
  char name[256] = {0};
  int major = 0, minor = 0;
  if (!check(cuDeviceGetName(name, sizeof(name), device), "cuDeviceGetName") ||
      !check(cuDeviceGetAttribute(
                 &major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device),
             "cuDeviceGetAttribute") ||
      !check(cuDeviceGetAttribute(
                 &minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device),
             "cuDeviceGetAttribute"))
    return -1;
  std::snprintf(buffer, size, "%s (sm_%d%d)", name, major, minor);
  return 0;
}

int tmc_cuda_profile_start(void) {
  if (!ensureContext())
    return -1;
  std::lock_guard<std::mutex> lock(profileMutex);
  dropTimedLaunches();
  profileTotals.clear();
  profiling = true;
  return 0;
}

int64_t tmc_cuda_profile_stop(tmc_kernel_time *entries, int64_t capacity) {
  std::lock_guard<std::mutex> lock(profileMutex);
  auto copyOut = [&] {
    for (int64_t i = 0; i < capacity && i < int64_t(profileTotals.size());
         ++i) {
      entries[i] = profileTotals[i].second;
      entries[i].kernel = profileTotals[i].first.c_str();
    }
    return int64_t(profileTotals.size());
  };
  // A second stop returns the same profile.
  if (!profiling)
    return copyOut();
  profiling = false;
  std::map<std::string, tmc_kernel_time> totals;
  bool ok = true;
  for (TimedLaunch &launch : timedLaunches) {
    float ms = 0.0f;
    ok = ok && check(cuEventSynchronize(launch.end), "cuEventSynchronize") &&
         check(cuEventElapsedTime(&ms, launch.start, launch.end),
               "cuEventElapsedTime");
    if (!ok)
      break;
    auto name = kernelNames.find(launch.function);
    tmc_kernel_time &total =
        totals[name == kernelNames.end() ? "(unknown kernel)" : name->second];
    ++total.launches;
    total.milliseconds += ms;
  }
  dropTimedLaunches();
  if (!ok)
    return -1;
  profileTotals.assign(totals.begin(), totals.end());
  // Most time first; equal times by name.
  std::sort(profileTotals.begin(), profileTotals.end(),
            [](const auto &a, const auto &b) {
              if (a.second.milliseconds != b.second.milliseconds)
                return a.second.milliseconds > b.second.milliseconds;
              return a.first < b.first;
            });
  return copyOut();
}

} // extern "C"
