//===- Model.cpp - Loading and running compiled models ----------*- C++ -*-===//
//
// This file implements the model half of the runtime's C API: it opens a
// compiled-model directory as docs/ABI.md defines it, checks that the code and
// the weights belong together, and calls the model's forward function with
// MLIR memref descriptors for the weights, the arena, the inputs and the
// outputs.
//
//===----------------------------------------------------------------------===//

#include "tmc-rt/Runtime.h"

#include <cerrno>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <dlfcn.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

/// The ABI version this runtime implements.
constexpr uint64_t kAbiVersion = 1;
/// Alignment of the weights and the arena.
constexpr size_t kBufferAlignment = 64;
/// Refuse absurd ranks in a signature.
constexpr int64_t kMaxRank = 64;

struct TensorSpec {
  std::string name;
  tmc_dtype dtype = TMC_DTYPE_F32;
  std::vector<int64_t> dims;
  int64_t numElements = 1;
  uint64_t numBytes = 0;
};

/// Owns storage for one MLIR memref descriptor: allocated, aligned, offset,
/// sizes[rank], strides[rank], all 8-byte fields.
class MemrefDescriptor {
public:
  explicit MemrefDescriptor(const std::vector<int64_t> &sizes)
      : fields(3 + 2 * sizes.size(), 0) {
    size_t rank = sizes.size();
    int64_t stride = 1;
    for (size_t i = rank; i-- > 0;) {
      fields[3 + i] = sizes[i];
      fields[3 + rank + i] = stride;
      stride *= sizes[i] > 0 ? sizes[i] : 1;
    }
  }

  void setData(const void *data) {
    std::memcpy(&fields[0], &data, sizeof(data));
    std::memcpy(&fields[1], &data, sizeof(data));
  }

  void *get() { return fields.data(); }

private:
  std::vector<int64_t> fields;
};

using AbiVersionFn = uint64_t (*)();
using SignatureFn = const char *(*)();
using ForwardFn = void (*)(void **);

/// The functions of libtmcrt_cuda (tmc-rt/Cuda.h) that a CUDA model needs,
/// looked up through the model's library (which links libtmcrt_cuda), so
/// that this runtime itself never depends on CUDA.
struct DeviceApi {
  int (*init)() = nullptr;
  const char *(*error)() = nullptr;
  void (*clearError)() = nullptr;
  void *(*alloc)(size_t) = nullptr;
  void (*free)(void *) = nullptr;
  int (*toDevice)(void *, const void *, size_t) = nullptr;
  int (*toHost)(void *, const void *, size_t) = nullptr;
  int (*zero)(void *, size_t) = nullptr;
  int (*synchronize)() = nullptr;
  int (*deviceName)(char *, size_t) = nullptr;
  int (*profileStart)() = nullptr;
  int64_t (*profileStop)(tmc_kernel_time *, int64_t) = nullptr;
};

/// Formats a message into the caller's buffer, if any.
__attribute__((format(printf, 3, 4))) void setError(char *err, size_t errlen,
                                                    const char *fmt, ...) {
  if (!err || errlen == 0)
    return;
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

bool parseDtype(const std::string &text, tmc_dtype &dtype) {
  static const struct {
    const char *name;
    tmc_dtype dtype;
  } kDtypes[] = {{"f32", TMC_DTYPE_F32},   {"f16", TMC_DTYPE_F16},
                 {"bf16", TMC_DTYPE_BF16}, {"i64", TMC_DTYPE_I64},
                 {"i32", TMC_DTYPE_I32},   {"i8", TMC_DTYPE_I8}};
  for (const auto &entry : kDtypes)
    if (text == entry.name) {
      dtype = entry.dtype;
      return true;
    }
  return false;
}

bool parseUnsigned(const std::string &text, uint64_t &value, int base = 10) {
  if (text.empty() || text[0] == '-' || text[0] == '+')
    return false;
  errno = 0;
  char *end = nullptr;
  unsigned long long parsed = std::strtoull(text.c_str(), &end, base);
  if (errno != 0 || *end != '\0')
    return false;
  value = parsed;
  return true;
}

std::vector<std::string> splitWords(const std::string &line) {
  std::vector<std::string> words;
  size_t pos = 0;
  while (pos < line.size()) {
    while (pos < line.size() &&
           (line[pos] == ' ' || line[pos] == '\t' || line[pos] == '\r'))
      ++pos;
    size_t start = pos;
    while (pos < line.size() && line[pos] != ' ' && line[pos] != '\t' &&
           line[pos] != '\r')
      ++pos;
    if (pos > start)
      words.push_back(line.substr(start, pos - start));
  }
  return words;
}

/// 64-bit FNV-1a of `size` bytes.
uint64_t fnv1a64(const unsigned char *data, size_t size) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < size; ++i) {
    hash ^= data[i];
    hash *= 0x100000001b3ull;
  }
  return hash;
}

std::string joinPath(const std::string &dir, const char *file) {
  if (!dir.empty() && dir.back() == '/')
    return dir + file;
  return dir + "/" + file;
}

} // namespace

/// The KV cache and entry points of a decoding build.
struct Decoder {
  uint64_t cacheBytes = 0;
  int64_t maxTokens = 0, chunk = 0, vocab = 0, window = 0, sinks = 0;
  std::string cacheType;
  ForwardFn prefill = nullptr, step = nullptr;
  /// Zero-filled anonymous mapping: pages become resident as tokens fill it
  /// (CPU builds; CUDA builds keep the cache in device memory).
  void *cache = nullptr;
  /// CUDA builds: the device cache (zeroed), the device buffers of the
  /// token ids (a chunk's, or one) and of the logits. Position and length
  /// stay in host memory, where the host code reads them.
  void *deviceCache = nullptr, *deviceIds = nullptr, *deviceLogits = nullptr;
  /// Tokens in the cache.
  int64_t position = 0;
  /// Arguments of the two entries: weights, arena, cache, input_ids,
  /// position, [length,] logits.
  std::vector<int64_t> chunkIds;
  int64_t stepId = 0, start = 0, length = 0;
  std::vector<MemrefDescriptor> prefillDescriptors, stepDescriptors;
  std::vector<void *> prefillArgs, stepArgs;

  ~Decoder() {
    if (cache)
      munmap(cache, cacheBytes);
  }
};

struct tmc_model {
  std::string dir;
  void *library = nullptr;
  ForwardFn forward = nullptr;
  std::string signature;
  /// Set for a decoding build (a `decode` record in the signature).
  std::unique_ptr<Decoder> decoder;

  uint64_t weightsBytes = 0;
  uint64_t weightsHash = 0;
  uint64_t arenaBytes = 0;

  void *weightsMapping = nullptr;
  size_t weightsMappingBytes = 0;
  /// Points to the weights (the mapping, or a placeholder when empty).
  const void *weights = nullptr;
  void *arena = nullptr;

  std::vector<TensorSpec> inputs, outputs;
  /// Weights, arena, inputs, outputs, in signature order.
  std::vector<MemrefDescriptor> descriptors;
  std::vector<void *> args;
  std::mutex runMutex;

  /// What tmc_model_target() says ("cpu" when the model does not export
  /// it); for "cuda ..." every buffer the model sees is device memory.
  std::string target = "cpu";
  bool onDevice = false;
  DeviceApi device;
  void *deviceWeights = nullptr;
  void *deviceArena = nullptr;
  /// Device copies of the inputs, then the outputs.
  std::vector<void *> deviceTensors;

  ~tmc_model() {
    if (onDevice && device.free && decoder) {
      device.free(decoder->deviceLogits);
      device.free(decoder->deviceIds);
      device.free(decoder->deviceCache);
    }
    if (onDevice && device.free) {
      for (void *buffer : deviceTensors)
        device.free(buffer);
      device.free(deviceArena);
      device.free(deviceWeights);
    }
    std::free(arena);
    if (weightsMapping)
      munmap(weightsMapping, weightsMappingBytes);
    if (library)
      dlclose(library);
  }

  tmc_status load(const char *dirPath, char *err, size_t errlen);

private:
  tmc_status setUpDecoder(char *err, size_t errlen);
  tmc_status openLibrary(char *err, size_t errlen);
  tmc_status parseSignature(char *err, size_t errlen);
  tmc_status mapWeights(char *err, size_t errlen);
  tmc_status setUpDevice(char *err, size_t errlen);
};

/// Formats the device's first error about `what` into `err` and clears it.
static tmc_status deviceFailure(tmc_model &model, char *err, size_t errlen,
                                const char *what) {
  const char *why = model.device.error();
  setError(err, errlen, "%s (%s): %s: %s", model.dir.c_str(),
           model.target.c_str(), what, why ? why : "unknown CUDA error");
  model.device.clearError();
  return TMC_ERROR_IO;
}

tmc_status tmc_model::load(const char *dirPath, char *err, size_t errlen) {
  dir = dirPath;
  struct stat st;
  if (stat(dirPath, &st) != 0 || !S_ISDIR(st.st_mode)) {
    setError(err, errlen, "%s: not a directory (expected a compiled model)",
             dirPath);
    return TMC_ERROR_IO;
  }
  if (tmc_status s = openLibrary(err, errlen))
    return s;
  if (tmc_status s = parseSignature(err, errlen))
    return s;
  if (tmc_status s = mapWeights(err, errlen))
    return s;
  if (onDevice)
    return setUpDevice(err, errlen);

  if (arenaBytes > 0) {
    size_t bytes =
        (arenaBytes + kBufferAlignment - 1) & ~(kBufferAlignment - 1);
    if (arenaBytes > SIZE_MAX - kBufferAlignment ||
        posix_memalign(&arena, kBufferAlignment, bytes) != 0) {
      arena = nullptr;
      setError(err, errlen,
               "%s: cannot allocate the activation arena of %" PRIu64 " bytes",
               dir.c_str(), arenaBytes);
      return TMC_ERROR_MEMORY;
    }
  }

  if (decoder)
    return setUpDecoder(err, errlen);

  descriptors.reserve(2 + inputs.size() + outputs.size());
  descriptors.emplace_back(std::vector<int64_t>{int64_t(weightsBytes)});
  descriptors.back().setData(weights);
  descriptors.emplace_back(std::vector<int64_t>{int64_t(arenaBytes)});
  descriptors.back().setData(arena);
  for (const TensorSpec &spec : inputs)
    descriptors.emplace_back(spec.dims);
  for (const TensorSpec &spec : outputs)
    descriptors.emplace_back(spec.dims);
  for (MemrefDescriptor &descriptor : descriptors)
    args.push_back(descriptor.get());
  return TMC_OK;
}

tmc_status tmc_model::setUpDecoder(char *err, size_t errlen) {
  Decoder &d = *decoder;
  std::string path = joinPath(dir, "model.so");
  d.prefill = reinterpret_cast<ForwardFn>(dlsym(library, "tmc_model_prefill"));
  d.step = reinterpret_cast<ForwardFn>(dlsym(library, "tmc_model_decode"));
  auto cacheBytesFn =
      reinterpret_cast<AbiVersionFn>(dlsym(library, "tmc_model_cache_bytes"));
  if (!d.prefill || !d.step || !cacheBytesFn) {
    setError(err, errlen,
             "%s: a decoding build must export tmc_model_prefill, "
             "tmc_model_decode and tmc_model_cache_bytes",
             path.c_str());
    return TMC_ERROR_ABI;
  }
  if (cacheBytesFn() != d.cacheBytes) {
    setError(err, errlen,
             "%s: cache size differs between the signature and "
             "tmc_model_cache_bytes",
             path.c_str());
    return TMC_ERROR_ABI;
  }
  if (onDevice) {
    if (d.cacheBytes > 0 && (!(d.deviceCache = device.alloc(d.cacheBytes)) ||
                             device.zero(d.deviceCache, d.cacheBytes) != 0))
      return deviceFailure(*this, err, errlen,
                           "cannot allocate the KV cache on the device");
    if (!(d.deviceIds = device.alloc(size_t(d.chunk) * sizeof(int64_t))) ||
        !(d.deviceLogits = device.alloc(size_t(d.vocab) * sizeof(float))))
      return deviceFailure(*this, err, errlen,
                           "cannot allocate the token ids or logits on the "
                           "device");
  } else if (d.cacheBytes > 0) {
    void *mapping = mmap(nullptr, d.cacheBytes, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapping == MAP_FAILED) {
      setError(err, errlen,
               "%s: cannot allocate the KV cache of %" PRIu64 " bytes",
               dir.c_str(), d.cacheBytes);
      return TMC_ERROR_MEMORY;
    }
    d.cache = mapping;
  }
  d.chunkIds.assign(size_t(d.chunk), 0);
  auto build = [&](std::vector<MemrefDescriptor> &list,
                   std::vector<void *> &args, int64_t seq, void *ids,
                   bool withLength) {
    list.reserve(8);
    list.emplace_back(std::vector<int64_t>{int64_t(weightsBytes)});
    list.back().setData(onDevice ? deviceWeights : weights);
    list.emplace_back(std::vector<int64_t>{int64_t(arenaBytes)});
    list.back().setData(onDevice ? deviceArena : arena);
    list.emplace_back(std::vector<int64_t>{int64_t(d.cacheBytes)});
    list.back().setData(onDevice ? d.deviceCache : d.cache);
    list.emplace_back(std::vector<int64_t>{1, seq});
    list.back().setData(onDevice ? d.deviceIds : ids);
    list.emplace_back(std::vector<int64_t>{1});
    list.back().setData(&d.start);
    if (withLength) {
      list.emplace_back(std::vector<int64_t>{1});
      list.back().setData(&d.length);
    }
    list.emplace_back(std::vector<int64_t>{1, 1, d.vocab});
    if (onDevice)
      list.back().setData(d.deviceLogits);
    for (MemrefDescriptor &descriptor : list)
      args.push_back(descriptor.get());
  };
  build(d.prefillDescriptors, d.prefillArgs, d.chunk, d.chunkIds.data(),
        /*withLength=*/true);
  build(d.stepDescriptors, d.stepArgs, 1, &d.stepId, /*withLength=*/false);
  return TMC_OK;
}

tmc_status tmc_model::openLibrary(char *err, size_t errlen) {
  std::string path = joinPath(dir, "model.so");
  if (access(path.c_str(), R_OK) != 0) {
    setError(err, errlen, "%s: %s (not a compiled model directory?)",
             path.c_str(), std::strerror(errno));
    return TMC_ERROR_IO;
  }
  library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *why = dlerror();
    setError(err, errlen, "%s: cannot load: %s", path.c_str(),
             why ? why : "unknown error");
    return TMC_ERROR_IO;
  }

  auto lookup = [&](const char *symbol) -> void * {
    void *address = dlsym(library, symbol);
    if (!address)
      setError(err, errlen, "%s: missing symbol %s (not a TMC compiled model?)",
               path.c_str(), symbol);
    return address;
  };
  auto abiVersion =
      reinterpret_cast<AbiVersionFn>(lookup("tmc_model_abi_version"));
  if (!abiVersion)
    return TMC_ERROR_ABI;
  uint64_t version = abiVersion();
  if (version != kAbiVersion) {
    setError(err, errlen,
             "%s: compiled for model ABI version %" PRIu64
             ", this runtime implements version %" PRIu64,
             path.c_str(), version, kAbiVersion);
    return TMC_ERROR_ABI;
  }
  auto signatureFn =
      reinterpret_cast<SignatureFn>(lookup("tmc_model_signature"));
  auto weightsBytesFn =
      reinterpret_cast<AbiVersionFn>(lookup("tmc_model_weights_bytes"));
  auto weightsHashFn =
      reinterpret_cast<AbiVersionFn>(lookup("tmc_model_weights_hash"));
  auto arenaBytesFn =
      reinterpret_cast<AbiVersionFn>(lookup("tmc_model_arena_bytes"));
  if (!signatureFn || !weightsBytesFn || !weightsHashFn || !arenaBytesFn)
    return TMC_ERROR_ABI;
  // A decoding build has prefill and decode entries instead (setUpDecoder).
  forward = reinterpret_cast<ForwardFn>(dlsym(library, "tmc_model_forward"));
  if (!forward && !dlsym(library, "tmc_model_decode"))
    return lookup("tmc_model_forward") ? TMC_OK : TMC_ERROR_ABI;

  if (auto targetFn =
          reinterpret_cast<SignatureFn>(dlsym(library, "tmc_model_target"))) {
    const char *text = targetFn();
    target = text ? text : "";
    if (target.rfind("cuda", 0) != 0) {
      setError(err, errlen, "%s: unknown target '%s'", path.c_str(),
               target.c_str());
      return TMC_ERROR_ABI;
    }
    onDevice = true;
    auto need = [&](const char *symbol) -> void * {
      void *address = dlsym(library, symbol);
      if (!address)
        setError(err, errlen,
                 "%s: a CUDA model, but %s (libtmcrt_cuda) is missing",
                 path.c_str(), symbol);
      return address;
    };
#define TMC_DEVICE_FN(field, symbol)                                           \
  device.field = reinterpret_cast<decltype(device.field)>(need(symbol));       \
  if (!device.field)                                                           \
    return TMC_ERROR_ABI;
    TMC_DEVICE_FN(init, "tmc_cuda_init")
    TMC_DEVICE_FN(error, "tmc_cuda_error")
    TMC_DEVICE_FN(clearError, "tmc_cuda_clear_error")
    TMC_DEVICE_FN(alloc, "tmc_cuda_alloc")
    TMC_DEVICE_FN(free, "tmc_cuda_free")
    TMC_DEVICE_FN(toDevice, "tmc_cuda_copy_to_device")
    TMC_DEVICE_FN(toHost, "tmc_cuda_copy_to_host")
    TMC_DEVICE_FN(zero, "tmc_cuda_zero")
    TMC_DEVICE_FN(synchronize, "tmc_cuda_synchronize")
    TMC_DEVICE_FN(deviceName, "tmc_cuda_device_name")
#undef TMC_DEVICE_FN
    // The profiler is optional: older model directories ship a
    // libtmcrt_cuda without it.
    device.profileStart = reinterpret_cast<decltype(device.profileStart)>(
        dlsym(library, "tmc_cuda_profile_start"));
    device.profileStop = reinterpret_cast<decltype(device.profileStop)>(
        dlsym(library, "tmc_cuda_profile_stop"));
  }

  const char *text = signatureFn();
  signature = text ? text : "";
  weightsBytes = weightsBytesFn();
  weightsHash = weightsHashFn();
  arenaBytes = arenaBytesFn();
  return TMC_OK;
}

tmc_status tmc_model::parseSignature(char *err, size_t errlen) {
  std::string path = joinPath(dir, "model.so");
  std::vector<std::vector<std::string>> records;
  size_t start = 0;
  while (start <= signature.size()) {
    size_t end = signature.find('\n', start);
    if (end == std::string::npos)
      end = signature.size();
    std::vector<std::string> words =
        splitWords(signature.substr(start, end - start));
    if (!words.empty())
      records.push_back(std::move(words));
    start = end + 1;
  }

  auto bad = [&](size_t record, const char *why) {
    setError(err, errlen, "%s: signature record %zu: %s", path.c_str(),
             record + 1, why);
    return TMC_ERROR_ABI;
  };

  if (records.size() < 2 || records[0][0] != "weights" ||
      records[1][0] != "arena")
    return bad(0, "expected 'weights' and 'arena' records first");

  uint64_t value = 0, hash = 0;
  if (records[0].size() != 3 || !parseUnsigned(records[0][1], value) ||
      records[0][2].size() != 16 || !parseUnsigned(records[0][2], hash, 16))
    return bad(0, "expected 'weights <bytes> <16 hex digits>'");
  if (value != weightsBytes || hash != weightsHash)
    return bad(0, "weights size or hash differs from tmc_model_weights_bytes "
                  "/ tmc_model_weights_hash");
  if (records[1].size() != 2 || !parseUnsigned(records[1][1], value))
    return bad(1, "expected 'arena <bytes>'");
  if (value != arenaBytes)
    return bad(1, "arena size differs from tmc_model_arena_bytes");

  size_t first = 2;
  if (records.size() > 2 && records[2][0] == "decode") {
    // decode <cache bytes> <max tokens> <chunk> <vocab> <window> <sinks>
    //        <cache type>
    const std::vector<std::string> &words = records[2];
    uint64_t fields[6];
    bool ok = words.size() == 8;
    for (int i = 0; ok && i < 6; ++i)
      ok = parseUnsigned(words[1 + i], fields[i]) &&
           fields[i] <= (uint64_t(1) << 40);
    if (!ok || fields[2] == 0 || fields[3] == 0)
      return bad(2, "expected 'decode <cache bytes> <max tokens> <chunk> "
                    "<vocab> <window> <sinks> <cache type>'");
    decoder = std::make_unique<Decoder>();
    decoder->cacheBytes = fields[0];
    decoder->maxTokens = int64_t(fields[1]);
    decoder->chunk = int64_t(fields[2]);
    decoder->vocab = int64_t(fields[3]);
    decoder->window = int64_t(fields[4]);
    decoder->sinks = int64_t(fields[5]);
    decoder->cacheType = words[7];
    first = 3;
  }
  if (!decoder && !forward)
    return bad(0, "no tmc_model_forward and no 'decode' record");

  bool seenOutput = false;
  for (size_t r = first; r < records.size(); ++r) {
    const std::vector<std::string> &words = records[r];
    bool isInput = words[0] == "input";
    if (!isInput && words[0] != "output")
      return bad(r, "unknown record kind (expected 'input' or 'output')");
    if (isInput && seenOutput)
      return bad(r, "input after an output");
    seenOutput |= !isInput;

    TensorSpec spec;
    uint64_t rank = 0;
    if (words.size() < 4 || !parseDtype(words[2], spec.dtype) ||
        !parseUnsigned(words[3], rank) || rank > uint64_t(kMaxRank) ||
        words.size() != 4 + rank)
      return bad(r, "expected '<kind> <name> <dtype> <rank> <dims...>'");
    spec.name = words[1];
    uint64_t elements = 1;
    for (uint64_t d = 0; d < rank; ++d) {
      uint64_t dim = 0;
      if (!parseUnsigned(words[4 + d], dim) || dim > (uint64_t(1) << 40))
        return bad(r, "bad dimension");
      if (dim != 0 && elements > (uint64_t(1) << 60) / dim)
        return bad(r, "tensor too large");
      elements *= dim;
      spec.dims.push_back(int64_t(dim));
    }
    spec.numElements = int64_t(elements);
    spec.numBytes = elements * tmc_dtype_size(spec.dtype);

    std::vector<TensorSpec> &list = isInput ? inputs : outputs;
    for (const TensorSpec &other : list)
      if (other.name == spec.name)
        return bad(r, "duplicate name");
    list.push_back(std::move(spec));
  }
  return TMC_OK;
}

tmc_status tmc_model::mapWeights(char *err, size_t errlen) {
  std::string path = joinPath(dir, "weights.bin");
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    setError(err, errlen, "%s: %s", path.c_str(), std::strerror(errno));
    return TMC_ERROR_IO;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    setError(err, errlen, "%s: not a regular file", path.c_str());
    return TMC_ERROR_IO;
  }
  uint64_t fileBytes = uint64_t(st.st_size);
  if (fileBytes != weightsBytes) {
    close(fd);
    setError(err, errlen,
             "%s: size is %" PRIu64
             " bytes but the compiled model expects %" PRIu64
             " (weights and code are from different compiles?)",
             path.c_str(), fileBytes, weightsBytes);
    return TMC_ERROR_WEIGHTS;
  }

  // An empty weights file cannot be mapped; any aligned address will do.
  alignas(kBufferAlignment) static const unsigned char kNoWeights[1] = {0};
  if (fileBytes == 0) {
    close(fd);
    weights = kNoWeights;
  } else {
    void *mapping = mmap(nullptr, fileBytes, PROT_READ, MAP_PRIVATE, fd, 0);
    int mapErrno = errno;
    close(fd);
    if (mapping == MAP_FAILED) {
      setError(err, errlen, "%s: cannot map: %s", path.c_str(),
               std::strerror(mapErrno));
      return TMC_ERROR_IO;
    }
    weightsMapping = mapping;
    weightsMappingBytes = fileBytes;
    weights = mapping;
    if (reinterpret_cast<uintptr_t>(weights) % kBufferAlignment != 0) {
      setError(err, errlen, "%s: mapping is not %zu-byte aligned", path.c_str(),
               kBufferAlignment);
      return TMC_ERROR_IO;
    }
  }

  if (weightsMapping)
    madvise(weightsMapping, weightsMappingBytes, MADV_SEQUENTIAL);
  uint64_t hash =
      fnv1a64(static_cast<const unsigned char *>(weights), fileBytes);
  if (weightsMapping)
    madvise(weightsMapping, weightsMappingBytes, MADV_NORMAL);
  if (hash != weightsHash) {
    setError(err, errlen,
             "%s: FNV-1a hash %016" PRIx64 " does not match the compiled "
             "model's %016" PRIx64
             " (weights and code are from different compiles?)",
             path.c_str(), hash, weightsHash);
    return TMC_ERROR_WEIGHTS;
  }
  return TMC_OK;
}

/// For a CUDA model: checks that the kernels loaded, copies the weights to
/// the device, allocates the device arena (at the planned size) and one
/// device buffer per input and output, and points the descriptors at them.
tmc_status tmc_model::setUpDevice(char *err, size_t errlen) {
  auto failed = [&](const char *what) {
    const char *why = device.error();
    setError(err, errlen, "%s (%s): %s: %s", dir.c_str(), target.c_str(),
             what, why ? why : "unknown CUDA error");
    return TMC_ERROR_IO;
  };
  // Loading model.so already loaded its kernels (a constructor of the
  // library): an error there shows now.
  if (device.init() != 0 || device.error())
    return failed("cannot initialize CUDA or load the kernels");
  if (weightsBytes > 0) {
    deviceWeights = device.alloc(weightsBytes);
    if (!deviceWeights)
      return failed("cannot allocate the weights on the device");
    if (device.toDevice(deviceWeights, weights, weightsBytes) != 0)
      return failed("cannot copy the weights to the device");
  }
  if (arenaBytes > 0) {
    deviceArena = device.alloc(arenaBytes);
    if (!deviceArena)
      return failed("cannot allocate the activation arena on the device");
  }
  descriptors.reserve(2 + inputs.size() + outputs.size());
  descriptors.emplace_back(std::vector<int64_t>{int64_t(weightsBytes)});
  descriptors.back().setData(deviceWeights);
  descriptors.emplace_back(std::vector<int64_t>{int64_t(arenaBytes)});
  descriptors.back().setData(deviceArena);
  for (const std::vector<TensorSpec> *list : {&inputs, &outputs})
    for (const TensorSpec &spec : *list) {
      void *buffer = nullptr;
      if (spec.numBytes > 0 && !(buffer = device.alloc(spec.numBytes)))
        return failed("cannot allocate an input or output on the device");
      deviceTensors.push_back(buffer);
      descriptors.emplace_back(spec.dims);
      descriptors.back().setData(buffer);
    }
  for (MemrefDescriptor &descriptor : descriptors)
    args.push_back(descriptor.get());
  if (decoder)
    return setUpDecoder(err, errlen);
  return TMC_OK;
}

/// Runs one decoding step `fn` of a CUDA build on `ids` (`count` of them)
/// and, with `logits`, copies the step's logits back.
static tmc_status runDeviceStep(tmc_model &model, ForwardFn fn,
                                std::vector<void *> &args, const int64_t *ids,
                                size_t count, float *logits, char *err,
                                size_t errlen) {
  Decoder &d = *model.decoder;
  DeviceApi &device = model.device;
  if (device.toDevice(d.deviceIds, ids, count * sizeof(int64_t)) != 0)
    return deviceFailure(model, err, errlen,
                         "cannot copy the token ids to the device");
  fn(args.data());
  if (device.synchronize() != 0 || device.error())
    return deviceFailure(model, err, errlen,
                         "the decoding step failed on the device");
  if (logits && device.toHost(logits, d.deviceLogits,
                              size_t(d.vocab) * sizeof(float)) != 0)
    return deviceFailure(model, err, errlen,
                         "cannot copy the logits from the device");
  return TMC_OK;
}

namespace {

tmc_status describe(const std::vector<TensorSpec> &list, size_t index,
                    tmc_tensor_info *info) {
  if (index >= list.size() || !info)
    return TMC_ERROR_ARGUMENT;
  const TensorSpec &spec = list[index];
  info->name = spec.name.c_str();
  info->dtype = spec.dtype;
  info->rank = int64_t(spec.dims.size());
  info->dims = spec.dims.data();
  info->num_elements = spec.numElements;
  info->num_bytes = spec.numBytes;
  return TMC_OK;
}

int64_t findByName(const std::vector<TensorSpec> &list, const char *name) {
  if (!name)
    return -1;
  for (size_t i = 0; i < list.size(); ++i)
    if (list[i].name == name)
      return int64_t(i);
  return -1;
}

} // namespace

extern "C" {

const char *tmc_dtype_name(tmc_dtype dtype) {
  switch (dtype) {
  case TMC_DTYPE_F32:
    return "f32";
  case TMC_DTYPE_F16:
    return "f16";
  case TMC_DTYPE_BF16:
    return "bf16";
  case TMC_DTYPE_I64:
    return "i64";
  case TMC_DTYPE_I32:
    return "i32";
  case TMC_DTYPE_I8:
    return "i8";
  }
  return "?";
}

size_t tmc_dtype_size(tmc_dtype dtype) {
  switch (dtype) {
  case TMC_DTYPE_F32:
  case TMC_DTYPE_I32:
    return 4;
  case TMC_DTYPE_F16:
  case TMC_DTYPE_BF16:
    return 2;
  case TMC_DTYPE_I64:
    return 8;
  case TMC_DTYPE_I8:
    return 1;
  }
  return 0;
}

tmc_model *tmc_model_load_ex(const char *dir, tmc_status *status, char *err,
                             size_t errlen) {
  if (err && errlen)
    err[0] = '\0';
  if (!dir) {
    setError(err, errlen, "no model directory given");
    if (status)
      *status = TMC_ERROR_ARGUMENT;
    return nullptr;
  }
  std::unique_ptr<tmc_model> model(new (std::nothrow) tmc_model());
  if (!model) {
    setError(err, errlen, "%s: out of memory", dir);
    if (status)
      *status = TMC_ERROR_MEMORY;
    return nullptr;
  }
  tmc_status result = model->load(dir, err, errlen);
  if (status)
    *status = result;
  if (result != TMC_OK)
    return nullptr;
  return model.release();
}

tmc_model *tmc_model_load(const char *dir, char *err, size_t errlen) {
  return tmc_model_load_ex(dir, nullptr, err, errlen);
}

void tmc_model_free(tmc_model *model) { delete model; }

size_t tmc_model_num_inputs(const tmc_model *model) {
  return model ? model->inputs.size() : 0;
}

size_t tmc_model_num_outputs(const tmc_model *model) {
  return model ? model->outputs.size() : 0;
}

tmc_status tmc_model_input_info(const tmc_model *model, size_t index,
                                tmc_tensor_info *info) {
  return model ? describe(model->inputs, index, info) : TMC_ERROR_ARGUMENT;
}

tmc_status tmc_model_output_info(const tmc_model *model, size_t index,
                                 tmc_tensor_info *info) {
  return model ? describe(model->outputs, index, info) : TMC_ERROR_ARGUMENT;
}

int64_t tmc_model_find_input(const tmc_model *model, const char *name) {
  return model ? findByName(model->inputs, name) : -1;
}

int64_t tmc_model_find_output(const tmc_model *model, const char *name) {
  return model ? findByName(model->outputs, name) : -1;
}

uint64_t tmc_model_weights_size(const tmc_model *model) {
  return model ? model->weightsBytes : 0;
}

uint64_t tmc_model_arena_size(const tmc_model *model) {
  return model ? model->arenaBytes : 0;
}

const char *tmc_model_signature_text(const tmc_model *model) {
  return model ? model->signature.c_str() : "";
}

const char *tmc_model_target_text(const tmc_model *model) {
  return model ? model->target.c_str() : "";
}

tmc_status tmc_model_device_name(const tmc_model *model, char *buffer,
                                 size_t size) {
  if (!model || !buffer || size == 0)
    return TMC_ERROR_ARGUMENT;
  if (!model->onDevice) {
    std::snprintf(buffer, size, "cpu");
    return TMC_OK;
  }
  if (model->device.deviceName(buffer, size) != 0) {
    std::snprintf(buffer, size, "unknown CUDA device");
    return TMC_ERROR_IO;
  }
  return TMC_OK;
}

/// Clears `err`; TMC_ERROR_ARGUMENT, with a message, unless `model` is a
/// CUDA model (kernel profiles time GPU kernels), TMC_ERROR_ABI when its
/// libtmcrt_cuda has no profiler.
static tmc_status checkProfiled(const tmc_model *model, char *err,
                                size_t errlen) {
  if (err && errlen)
    err[0] = '\0';
  if (!model || !model->onDevice) {
    setError(err, errlen, "kernel profiles are for CUDA models");
    return TMC_ERROR_ARGUMENT;
  }
  if (!model->device.profileStart || !model->device.profileStop) {
    setError(err, errlen,
             "%s: its libtmcrt_cuda.so has no kernel profiler (compiled by "
             "an older TMC: compile the model again)",
             model->dir.c_str());
    return TMC_ERROR_ABI;
  }
  return TMC_OK;
}

tmc_status tmc_model_profile_start(tmc_model *model, char *err,
                                   size_t errlen) {
  if (tmc_status status = checkProfiled(model, err, errlen))
    return status;
  if (model->device.profileStart() != 0)
    return deviceFailure(*model, err, errlen, "starting the kernel profile");
  return TMC_OK;
}

tmc_status tmc_model_profile_stop(tmc_model *model, tmc_kernel_time *entries,
                                  size_t capacity, size_t *count, char *err,
                                  size_t errlen) {
  if (tmc_status status = checkProfiled(model, err, errlen))
    return status;
  if (capacity > 0 && !entries) {
    setError(err, errlen, "no buffer for the profile's %zu entries", capacity);
    return TMC_ERROR_ARGUMENT;
  }
  int64_t kernels = model->device.profileStop(entries, int64_t(capacity));
  if (kernels < 0)
    return deviceFailure(*model, err, errlen, "collecting the kernel profile");
  if (count)
    *count = size_t(kernels);
  return TMC_OK;
}

tmc_status tmc_model_run(tmc_model *model, const void *const *inputs,
                         void *const *outputs, char *err, size_t errlen) {
  if (err && errlen)
    err[0] = '\0';
  if (!model) {
    setError(err, errlen, "no model");
    return TMC_ERROR_ARGUMENT;
  }
  size_t numInputs = model->inputs.size(), numOutputs = model->outputs.size();
  for (size_t i = 0; i < numInputs; ++i)
    if (!inputs || (!inputs[i] && model->inputs[i].numBytes > 0)) {
      setError(err, errlen, "%s: no buffer for input '%s'", model->dir.c_str(),
               model->inputs[i].name.c_str());
      return TMC_ERROR_ARGUMENT;
    }
  for (size_t i = 0; i < numOutputs; ++i)
    if (!outputs || (!outputs[i] && model->outputs[i].numBytes > 0)) {
      setError(err, errlen, "%s: no buffer for output '%s'", model->dir.c_str(),
               model->outputs[i].name.c_str());
      return TMC_ERROR_ARGUMENT;
    }

  if (model->decoder) {
    setError(err, errlen,
             "%s: a decoding build (tmc-compile --decode) runs with "
             "tmc-generate or tmc_decoder_prefill / tmc_decoder_step",
             model->dir.c_str());
    return TMC_ERROR_ARGUMENT;
  }
  std::lock_guard<std::mutex> lock(model->runMutex);
  if (model->onDevice) {
    DeviceApi &device = model->device;
    auto failed = [&](const char *what) {
      return deviceFailure(*model, err, errlen, what);
    };
    for (size_t i = 0; i < numInputs; ++i)
      if (device.toDevice(model->deviceTensors[i], inputs[i],
                          model->inputs[i].numBytes) != 0)
        return failed("cannot copy an input to the device");
    model->forward(model->args.data());
    if (device.synchronize() != 0 || device.error())
      return failed("the model failed on the device");
    for (size_t i = 0; i < numOutputs; ++i)
      if (device.toHost(outputs[i], model->deviceTensors[numInputs + i],
                        model->outputs[i].numBytes) != 0)
        return failed("cannot copy an output from the device");
    return TMC_OK;
  }
  for (size_t i = 0; i < numInputs; ++i)
    model->descriptors[2 + i].setData(inputs[i]);
  for (size_t i = 0; i < numOutputs; ++i)
    model->descriptors[2 + numInputs + i].setData(outputs[i]);
  model->forward(model->args.data());
  return TMC_OK;
}

uint64_t tmc_rt_peak_resident_bytes(void) {
  // VmHWM is this process image's own peak; ru_maxrss also counts what the
  // parent had resident when it forked us.
  if (FILE *status = std::fopen("/proc/self/status", "r")) {
    char line[256];
    long kib = -1;
    while (std::fgets(line, sizeof(line), status))
      if (std::sscanf(line, "VmHWM: %ld kB", &kib) == 1)
        break;
    std::fclose(status);
    if (kib > 0)
      return uint64_t(kib) * 1024;
  }
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return uint64_t(usage.ru_maxrss) * 1024;
}

//===----------------------------------------------------------------------===//
// Decoding builds
//===----------------------------------------------------------------------===//

/// Checks that `n` more tokens with ids `ids` can be appended.
static tmc_status checkTokens(tmc_model *model, const int64_t *ids, size_t n,
                              char *err, size_t errlen) {
  Decoder &d = *model->decoder;
  for (size_t i = 0; i < n; ++i)
    if (ids[i] < 0 || ids[i] >= d.vocab) {
      setError(err, errlen,
               "%s: token id %" PRId64 " (at index %zu) is outside the "
               "vocabulary of %" PRId64 " tokens",
               model->dir.c_str(), ids[i], i, d.vocab);
      return TMC_ERROR_ARGUMENT;
    }
  if (d.maxTokens > 0 && d.position + int64_t(n) > d.maxTokens) {
    setError(err, errlen,
             "%s: %zu more tokens after %" PRId64 " exceed the %" PRId64
             " positions the model holds (compile with a larger "
             "--decode=MAX_TOKENS, or a sliding window)",
             model->dir.c_str(), n, d.position, d.maxTokens);
    return TMC_ERROR_ARGUMENT;
  }
  return TMC_OK;
}

/// Checks that `model` is a decoding build.
static tmc_status checkDecoder(tmc_model *model, char *err, size_t errlen) {
  if (err && errlen)
    err[0] = '\0';
  if (!model) {
    setError(err, errlen, "no model");
    return TMC_ERROR_ARGUMENT;
  }
  if (!model->decoder) {
    setError(err, errlen,
             "%s: not a decoding build (compile it with tmc-compile "
             "--decode)",
             model->dir.c_str());
    return TMC_ERROR_ARGUMENT;
  }
  return TMC_OK;
}

tmc_status tmc_decoder_get_info(const tmc_model *model,
                                tmc_decoder_info *info) {
  if (!model || !model->decoder || !info)
    return TMC_ERROR_ARGUMENT;
  const Decoder &d = *model->decoder;
  info->cache_bytes = d.cacheBytes;
  info->max_tokens = d.maxTokens;
  info->chunk = d.chunk;
  info->vocab = d.vocab;
  info->window = d.window;
  info->sinks = d.sinks;
  info->cache_type = d.cacheType.c_str();
  return TMC_OK;
}

int64_t tmc_decoder_position(const tmc_model *model) {
  return model && model->decoder ? model->decoder->position : 0;
}

void tmc_decoder_reset(tmc_model *model) {
  if (model && model->decoder)
    model->decoder->position = 0;
}

tmc_status tmc_decoder_prefill(tmc_model *model, const int64_t *ids, size_t n,
                               float *logits, char *err, size_t errlen) {
  if (tmc_status s = checkDecoder(model, err, errlen))
    return s;
  if (n == 0 || !ids || !logits) {
    setError(err, errlen, "%s: prefill needs at least one token and a logits "
             "buffer", model->dir.c_str());
    return TMC_ERROR_ARGUMENT;
  }
  if (tmc_status s = checkTokens(model, ids, n, err, errlen))
    return s;
  std::lock_guard<std::mutex> lock(model->runMutex);
  Decoder &d = *model->decoder;
  if (!model->onDevice)
    d.prefillDescriptors.back().setData(logits);
  for (size_t done = 0; done < n;) {
    size_t count = std::min<size_t>(n - done, size_t(d.chunk));
    std::fill(d.chunkIds.begin(), d.chunkIds.end(), 0);
    std::memcpy(d.chunkIds.data(), ids + done, count * sizeof(int64_t));
    d.start = d.position;
    d.length = int64_t(count);
    if (!model->onDevice)
      d.prefill(d.prefillArgs.data());
    else if (tmc_status s = runDeviceStep(
                 *model, d.prefill, d.prefillArgs, d.chunkIds.data(),
                 d.chunkIds.size(), done + count == n ? logits : nullptr, err,
                 errlen))
      return s;
    d.position += int64_t(count);
    done += count;
  }
  return TMC_OK;
}

tmc_status tmc_decoder_step(tmc_model *model, int64_t id, float *logits,
                            char *err, size_t errlen) {
  if (tmc_status s = checkDecoder(model, err, errlen))
    return s;
  if (!logits) {
    setError(err, errlen, "%s: no logits buffer", model->dir.c_str());
    return TMC_ERROR_ARGUMENT;
  }
  if (tmc_status s = checkTokens(model, &id, 1, err, errlen))
    return s;
  std::lock_guard<std::mutex> lock(model->runMutex);
  Decoder &d = *model->decoder;
  d.stepId = id;
  d.start = d.position;
  if (!model->onDevice) {
    d.stepDescriptors.back().setData(logits);
    d.step(d.stepArgs.data());
  } else if (tmc_status s = runDeviceStep(*model, d.step, d.stepArgs,
                                          &d.stepId, 1, logits, err, errlen)) {
    return s;
  }
  d.position += 1;
  return TMC_OK;
}

} // extern "C"
