//===- FakeCudaDriver.cpp - A CUDA driver stand-in for tests ----*- C++ -*-===//
//
// This file implements a fake `libcuda.so.1` for testing, on machines
// without a GPU, the host side of CUDA models: libtmcrt_cuda's driver calls,
// the model loader's device path and tmc-run. Device memory is host memory;
// kernels are not executed, but every launch is checked (a loaded module, a
// kernel name present in the cubin, a positive grid and block, at most 1024
// threads per block and z <= 64) and counted. Module images are ELF cubins,
// PTX text, or fat binaries, from which it picks what a driver would: the
// cubin of the device's architecture, else PTX of an architecture not above
// it (which a driver would compile), else CUDA_ERROR_NO_BINARY_FOR_GPU.
//
// TMC_FAKE_CUDA_LOG=FILE appends a summary at exit ("modules N kernels K
// launches L bad 0 bytes B", then "image elf:90" or "image ptx:80 jit" per
// fat binary loaded); TMC_FAKE_CUDA_ARCH=NN is the device's architecture
// (default 90); TMC_FAKE_CUDA_FAIL=launch|init|alloc makes that call fail,
// for the error paths.
//
//===----------------------------------------------------------------------===//

#include <cuda.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

namespace {

std::atomic<long> modules{0}, kernels{0}, launches{0}, bad{0}, bytes{0};

bool failing(const char *what) {
  const char *env = std::getenv("TMC_FAKE_CUDA_FAIL");
  return env && std::strcmp(env, what) == 0;
}

struct Module {
  std::string image;
  /// A distinct handle per kernel name (what cuModuleGetFunction returns).
  std::map<std::string, char> functions;
};

/// The images chosen from fat binaries, for the summary.
std::string chosenImages;

unsigned deviceArch() {
  const char *env = std::getenv("TMC_FAKE_CUDA_ARCH");
  return env ? unsigned(std::atoi(env)) : 90;
}

struct Summary {
  ~Summary() {
    if (const char *path = std::getenv("TMC_FAKE_CUDA_LOG"))
      if (FILE *file = std::fopen(path, "a")) {
        std::fprintf(file,
                     "modules %ld kernels %ld launches %ld bad %ld bytes %ld\n",
                     modules.load(), kernels.load(), launches.load(),
                     bad.load(), bytes.load());
        std::fputs(chosenImages.c_str(), file);
        std::fclose(file);
      }
  }
} summary;

int dummyContext, dummyStream, dummyEvent;

} // namespace

extern "C" {

#define FAKE_API __attribute__((visibility("default")))

FAKE_API CUresult cuGetErrorName(CUresult error, const char **name) {
  *name = error == CUDA_ERROR_LAUNCH_FAILED   ? "CUDA_ERROR_LAUNCH_FAILED"
          : error == CUDA_ERROR_NO_DEVICE     ? "CUDA_ERROR_NO_DEVICE"
          : error == CUDA_ERROR_OUT_OF_MEMORY ? "CUDA_ERROR_OUT_OF_MEMORY"
          : error == CUDA_ERROR_NO_BINARY_FOR_GPU
              ? "CUDA_ERROR_NO_BINARY_FOR_GPU"
              : "CUDA_ERROR_INVALID_VALUE";
  return CUDA_SUCCESS;
}
FAKE_API CUresult cuGetErrorString(CUresult, const char **text) {
  *text = "fake driver";
  return CUDA_SUCCESS;
}
FAKE_API CUresult cuInit(unsigned) {
  return failing("init") ? CUDA_ERROR_NO_DEVICE : CUDA_SUCCESS;
}
FAKE_API CUresult cuDeviceGet(CUdevice *device, int ordinal) {
  *device = ordinal;
  return ordinal == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
FAKE_API CUresult cuDevicePrimaryCtxRetain(CUcontext *context, CUdevice) {
  *context = reinterpret_cast<CUcontext>(&dummyContext);
  return CUDA_SUCCESS;
}
FAKE_API CUresult cuCtxSetCurrent(CUcontext) { return CUDA_SUCCESS; }
FAKE_API CUresult cuCtxGetDevice(CUdevice *device) {
  *device = 0;
  return CUDA_SUCCESS;
}
FAKE_API CUresult cuCtxSynchronize() { return CUDA_SUCCESS; }
FAKE_API CUresult cuDeviceGetName(char *name, int size, CUdevice) {
  std::snprintf(name, size_t(size), "TMC fake CUDA device");
  return CUDA_SUCCESS;
}
FAKE_API CUresult cuDeviceGetAttribute(int *value, CUdevice_attribute attr,
                                       CUdevice) {
  *value = attr == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
               ? int(deviceArch() / 10)
           : attr == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR
               ? int(deviceArch() % 10)
               : 0;
  return CUDA_SUCCESS;
}

/// Picks the image a driver would load from a fat binary (header: magic,
/// version, header size, payload size; then entries: kind 1 PTX or 2 ELF,
/// header size, payload size, architecture at byte 28).
static CUresult chooseFromFatbin(const unsigned char *data) {
  uint16_t headerSize;
  uint64_t fatSize;
  std::memcpy(&headerSize, data + 6, 2);
  std::memcpy(&fatSize, data + 8, 8);
  unsigned device = deviceArch(), ptxArch = 0;
  bool elf = false;
  for (uint64_t offset = headerSize; offset < headerSize + fatSize;) {
    uint16_t kind;
    uint32_t entryHeader, arch;
    uint64_t size;
    std::memcpy(&kind, data + offset, 2);
    std::memcpy(&entryHeader, data + offset + 4, 4);
    std::memcpy(&size, data + offset + 8, 8);
    std::memcpy(&arch, data + offset + 28, 4);
    if (kind == 2 && arch == device)
      elf = true;
    if (kind == 1 && arch <= device && arch > ptxArch)
      ptxArch = arch;
    offset += entryHeader + size;
  }
  if (elf)
    chosenImages += "image elf:" + std::to_string(device) + "\n";
  else if (ptxArch)
    chosenImages += "image ptx:" + std::to_string(ptxArch) + " jit\n";
  else
    return CUDA_ERROR_NO_BINARY_FOR_GPU;
  return CUDA_SUCCESS;
}

static CUresult loadModule(CUmodule *module, const void *image) {
  const unsigned char *bytesIn = static_cast<const unsigned char *>(image);
  std::string copy;
  const unsigned char fatMagic[4] = {0x50, 0xed, 0x55, 0xba};
  if (std::memcmp(bytesIn, fatMagic, 4) == 0) {
    if (CUresult result = chooseFromFatbin(bytesIn))
      return result;
    // The cubin inside is not compressed: its kernel names are found.
    uint16_t headerSize;
    uint64_t fatSize;
    std::memcpy(&headerSize, bytesIn + 6, 2);
    std::memcpy(&fatSize, bytesIn + 8, 8);
    copy.assign(reinterpret_cast<const char *>(bytesIn), headerSize + fatSize);
  } else if (std::memcmp(bytesIn,
                  "\x7f"
                  "ELF",
                  4) == 0) {
    // The ELF header's section table end bounds the image.
    uint64_t shoff, shentsize, shnum;
    std::memcpy(&shoff, bytesIn + 0x28, 8);
    shentsize = bytesIn[0x3a] | (bytesIn[0x3b] << 8);
    shnum = bytesIn[0x3c] | (bytesIn[0x3d] << 8);
    copy.assign(reinterpret_cast<const char *>(bytesIn),
                shoff + shentsize * shnum);
  } else {
    // PTX text.
    copy = reinterpret_cast<const char *>(bytesIn);
    if (copy.find(".version") == std::string::npos) {
      ++bad;
      return CUDA_ERROR_INVALID_IMAGE;
    }
  }
  *module = reinterpret_cast<CUmodule>(new Module{copy, {}});
  ++modules;
  return CUDA_SUCCESS;
}

FAKE_API CUresult cuModuleLoadData(CUmodule *module, const void *image) {
  return loadModule(module, image);
}
FAKE_API CUresult cuModuleLoadDataEx(CUmodule *module, const void *image,
                                     unsigned, CUjit_option *, void **) {
  return loadModule(module, image);
}
FAKE_API CUresult cuModuleUnload(CUmodule module) {
  delete reinterpret_cast<Module *>(module);
  return CUDA_SUCCESS;
}
FAKE_API CUresult cuModuleGetFunction(CUfunction *function, CUmodule module,
                                      const char *name) {
  auto *m = reinterpret_cast<Module *>(module);
  // The name must be in the image (its string table), NUL-terminated.
  std::string needle = std::string(name) + '\0';
  if (!m || m->image.find(needle) == std::string::npos) {
    ++bad;
    return CUDA_ERROR_NOT_FOUND;
  }
  ++kernels;
  *function = reinterpret_cast<CUfunction>(&m->functions[name]);
  return CUDA_SUCCESS;
}
FAKE_API CUresult cuFuncSetAttribute(CUfunction, CUfunction_attribute, int) {
  return CUDA_SUCCESS;
}
FAKE_API CUresult cuLaunchKernel(CUfunction function, unsigned gx, unsigned gy,
                                 unsigned gz, unsigned bx, unsigned by,
                                 unsigned bz, unsigned, CUstream, void **params,
                                 void **extra) {
  if (failing("launch"))
    return CUDA_ERROR_LAUNCH_FAILED;
  if (!function || !gx || !gy || !gz || !bx || !by || !bz ||
      uint64_t(bx) * by * bz > 1024 || bz > 64 || gy > 65535 || gz > 65535 ||
      (!params && !extra)) {
    ++bad;
    return CUDA_ERROR_INVALID_VALUE;
  }
  ++launches;
  return CUDA_SUCCESS;
}
FAKE_API CUresult cuStreamCreate(CUstream *stream, unsigned) {
  *stream = reinterpret_cast<CUstream>(&dummyStream);
  return CUDA_SUCCESS;
}
FAKE_API CUresult cuStreamDestroy(CUstream) { return CUDA_SUCCESS; }
FAKE_API CUresult cuStreamSynchronize(CUstream) { return CUDA_SUCCESS; }
FAKE_API CUresult cuStreamWaitEvent(CUstream, CUevent, unsigned) {
  return CUDA_SUCCESS;
}
FAKE_API CUresult cuEventCreate(CUevent *event, unsigned) {
  *event = reinterpret_cast<CUevent>(&dummyEvent);
  return CUDA_SUCCESS;
}
FAKE_API CUresult cuEventDestroy(CUevent) { return CUDA_SUCCESS; }
FAKE_API CUresult cuEventSynchronize(CUevent) { return CUDA_SUCCESS; }
FAKE_API CUresult cuEventRecord(CUevent, CUstream) { return CUDA_SUCCESS; }
/// Every timed launch takes a quarter of a millisecond.
FAKE_API CUresult cuEventElapsedTime(float *ms, CUevent start, CUevent end) {
  if (!ms || !start || !end)
    return CUDA_ERROR_INVALID_VALUE;
  *ms = 0.25f;
  return CUDA_SUCCESS;
}
FAKE_API CUresult cuMemAlloc(CUdeviceptr *pointer, size_t size) {
  if (failing("alloc"))
    return CUDA_ERROR_OUT_OF_MEMORY;
  void *memory = std::calloc(1, size);
  if (!memory)
    return CUDA_ERROR_OUT_OF_MEMORY;
  bytes += long(size);
  *pointer = reinterpret_cast<CUdeviceptr>(memory);
  return CUDA_SUCCESS;
}
FAKE_API CUresult cuMemFree(CUdeviceptr pointer) {
  std::free(reinterpret_cast<void *>(pointer));
  return CUDA_SUCCESS;
}
FAKE_API CUresult cuMemcpyHtoD(CUdeviceptr dst, const void *src, size_t n) {
  std::memcpy(reinterpret_cast<void *>(dst), src, n);
  return CUDA_SUCCESS;
}
FAKE_API CUresult cuMemsetD8(CUdeviceptr dst, unsigned char value,
                             size_t n) {
  std::memset(reinterpret_cast<void *>(dst), value, n);
  return CUDA_SUCCESS;
}
FAKE_API CUresult cuMemcpyDtoH(void *dst, CUdeviceptr src, size_t n) {
  std::memcpy(dst, reinterpret_cast<const void *>(src), n);
  return CUDA_SUCCESS;
}
FAKE_API CUresult cuMemcpyAsync(CUdeviceptr dst, CUdeviceptr src, size_t n,
                                CUstream) {
  std::memcpy(reinterpret_cast<void *>(dst), reinterpret_cast<void *>(src), n);
  return CUDA_SUCCESS;
}
FAKE_API CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned value, size_t n,
                                   CUstream) {
  auto *p = reinterpret_cast<unsigned *>(dst);
  for (size_t i = 0; i < n; ++i)
    p[i] = value;
  return CUDA_SUCCESS;
}
FAKE_API CUresult cuMemsetD16Async(CUdeviceptr dst, unsigned short value,
                                   size_t n, CUstream) {
  auto *p = reinterpret_cast<unsigned short *>(dst);
  for (size_t i = 0; i < n; ++i)
    p[i] = value;
  return CUDA_SUCCESS;
}

} // extern "C"
