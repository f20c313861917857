//===- Report.cpp - The compiled model's report and header ------*- C++ -*-===//
//
// This file implements the buffer survey of the bufferized model, the
// memory report and the generated C header.
//
//===----------------------------------------------------------------------===//

#include "Report.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <map>

using namespace mlir;
using namespace mlir::tmc;

/// Reads tfm-kv-cache's record of the cache, if any.
static std::optional<DecodeInfo> readDecodeInfo(ModuleOp module) {
  auto attr = module->getAttrOfType<DictionaryAttr>("tmc.decode");
  if (!attr)
    return std::nullopt;
  auto get = [&](StringRef name) -> int64_t {
    if (auto value = attr.getAs<IntegerAttr>(name))
      return value.getInt();
    return 0;
  };
  DecodeInfo info;
  info.cacheBytes = get("cache_bytes");
  info.bytesPerToken = get("bytes_per_token");
  info.maxTokens = get("max_tokens");
  info.chunk = get("chunk");
  info.vocab = get("vocab");
  info.window = get("window");
  info.sinks = get("sinks");
  if (auto type = attr.getAs<StringAttr>("cache_type"))
    info.cacheType = type.getValue().str();
  return info;
}

/// The JSON form of a transform record's value: strings, booleans, numbers
/// and (nested) arrays and dictionaries of them; other attributes as text.
static llvm::json::Value toJson(Attribute attr) {
  if (auto str = dyn_cast<StringAttr>(attr))
    return str.getValue().str();
  if (auto b = dyn_cast<BoolAttr>(attr))
    return b.getValue();
  if (auto i = dyn_cast<IntegerAttr>(attr))
    return i.getInt();
  if (auto f = dyn_cast<FloatAttr>(attr))
    return f.getValueAsDouble();
  if (auto array = dyn_cast<ArrayAttr>(attr)) {
    llvm::json::Array out;
    for (Attribute element : array)
      out.push_back(toJson(element));
    return out;
  }
  if (auto dict = dyn_cast<DictionaryAttr>(attr)) {
    llvm::json::Object out;
    for (NamedAttribute field : dict)
      out[field.getName().getValue()] = toJson(field.getValue());
    return out;
  }
  std::string text;
  llvm::raw_string_ostream(text) << attr;
  return text;
}

void mlir::tmc::readBufferPlan(ModuleOp module, ModelReport &report) {
  auto intAttr = [&](StringRef name) -> int64_t {
    if (auto attr = module->getAttrOfType<IntegerAttr>(name))
      return attr.getInt();
    return 0;
  };
  report.arenaBytes = intAttr("tmc.arena_bytes");
  report.decode = readDecodeInfo(module);
  report.lowerBoundBytes = intAttr("tmc.lower_bound_bytes");
  report.buffersTotalBytes = intAttr("tmc.buffers_total_bytes");
  if (auto transforms = module->getAttrOfType<ArrayAttr>("tmc.transforms")) {
    for (Attribute attr : transforms) {
      llvm::json::Value entry = toJson(attr);
      std::string text;
      llvm::raw_string_ostream(text) << entry;
      report.transforms.push_back(text);
    }
  }
  auto plan = module->getAttrOfType<ArrayAttr>("tmc.buffer_plan");
  if (!plan)
    return;
  for (Attribute attr : plan) {
    auto entry = cast<DictionaryAttr>(attr);
    BufferInfo info;
    info.name = entry.getAs<StringAttr>("name").str();
    info.size = entry.getAs<IntegerAttr>("size").getInt();
    info.offset = entry.getAs<IntegerAttr>("offset").getInt();
    info.firstUse = entry.getAs<IntegerAttr>("first_use").getInt();
    info.lastUse = entry.getAs<IntegerAttr>("last_use").getInt();
    report.buffers.push_back(info);
  }
}

LogicalResult mlir::tmc::writeReport(Location loc, StringRef path,
                                     const ModelReport &report) {
  llvm::json::Array buffers;
  for (const BufferInfo &info : report.buffers)
    buffers.push_back(llvm::json::Object{{"name", info.name},
                                         {"size", info.size},
                                         {"offset", info.offset},
                                         {"first_use", info.firstUse},
                                         {"last_use", info.lastUse}});
  llvm::json::Array transforms;
  for (const std::string &text : report.transforms)
    if (llvm::Expected<llvm::json::Value> value = llvm::json::parse(text))
      transforms.push_back(std::move(*value));
    else
      llvm::consumeError(value.takeError());
  double ratio = report.lowerBoundBytes
                     ? double(report.arenaBytes) / report.lowerBoundBytes
                     : 1.0;
  llvm::json::Object root{
      {"seq_len", report.seqLen},
      {"target", report.target},
      {"gpu_kernels", report.gpuKernels},
      {"arena_bytes", report.arenaBytes},
      {"lower_bound_bytes", report.lowerBoundBytes},
      {"arena_over_lower_bound", ratio},
      {"buffers_total_bytes", report.buffersTotalBytes},
      {"weights_bytes_before", report.weightsBytesBefore},
      {"weights_bytes_after", report.weightsBytesAfter},
      {"buffers", std::move(buffers)},
      {"transforms", std::move(transforms)}};
  if (const std::optional<DecodeInfo> &decode = report.decode)
    root["kv_cache"] = llvm::json::Object{
        {"bytes", decode->cacheBytes},
        {"bytes_per_token", decode->bytesPerToken},
        {"max_tokens", decode->maxTokens},
        {"prefill_chunk", decode->chunk},
        {"window", decode->window},
        {"sinks", decode->sinks},
        {"type", decode->cacheType}};
  if (report.train) {
    // The training step: tfm-autodiff's and tfm-rematerialize's records
    // with the planned arena they led to.
    llvm::json::Object train;
    llvm::json::Object remat{{"arena_bytes", report.arenaBytes},
                             {"plan_attempts", report.planAttempts}};
    for (const llvm::json::Value &entry : *root.getArray("transforms")) {
      const llvm::json::Object *record = entry.getAsObject();
      std::optional<llvm::StringRef> pass =
          record ? record->getString("pass") : std::nullopt;
      if (pass == "tfm-autodiff") {
        for (llvm::StringRef key : {"loss", "temperature", "parameters",
                                    "gradient_bytes"})
          if (const llvm::json::Value *value = record->get(key))
            train[key] = *value;
      } else if (pass == "tfm-rematerialize") {
        for (llvm::StringRef key :
             {"mode", "estimated_peak_bytes", "forward_flops",
              "recompute_flops", "layers"})
          if (const llvm::json::Value *value = record->get(key))
            remat[key] = *value;
      }
    }
    remat["budget_bytes"] = report.memoryBudget
                                ? llvm::json::Value(report.memoryBudget)
                                : llvm::json::Value(nullptr);
    train["remat"] = std::move(remat);
    root["train"] = std::move(train);
  }
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return emitError(loc) << "cannot write '" << path << "': " << ec.message();
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
  return success();
}

LogicalResult mlir::tmc::writeHeader(Location loc, StringRef path,
                                     StringRef signature,
                                     const ModelReport &report,
                                     uint64_t weightsHash, StringRef target) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return emitError(loc) << "cannot write '" << path << "': " << ec.message();
  int64_t weightsBytes = report.weightsBytesAfter;
  int64_t arenaBytes = report.arenaBytes;
  os << "/* Generated by tmc-compile: the entry points of a compiled model.\n"
        "   The ABI is described in TMC's docs/ABI.md (version 1). */\n"
        "#ifndef TMC_MODEL_H\n#define TMC_MODEL_H\n\n"
        "#include <stdint.h>\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  os << "#define TMC_MODEL_ABI_VERSION 1\n";
  os << "#define TMC_MODEL_WEIGHTS_BYTES " << weightsBytes << "ull\n";
  os << "#define TMC_MODEL_WEIGHTS_HASH 0x"
     << llvm::format_hex_no_prefix(weightsHash, 16) << "ull\n";
  os << "#define TMC_MODEL_ARENA_BYTES " << arenaBytes << "ull\n";
  if (!target.empty()) {
    os << "#define TMC_MODEL_TARGET \"" << target << "\"\n";
    if (report.decode)
      os << "/* Every buffer passed to tmc_model_prefill and tmc_model_decode is\n"
            "   CUDA device memory except position and length, which are host\n"
            "   memory (the host code reads them); libtmcrt_cuda.so runs the\n"
            "   kernels (docs/GPU.md). */\n";
    else
      os << "/* Every buffer passed to tmc_model_forward (weights, arena, inputs,\n"
            "   outputs) is CUDA device memory; libtmcrt_cuda.so runs the\n"
            "   kernels (docs/GPU.md). */\n";
  }
  if (const std::optional<DecodeInfo> &decode = report.decode) {
    os << "#define TMC_MODEL_CACHE_BYTES " << decode->cacheBytes << "ull\n"
       << "#define TMC_MODEL_CACHE_BYTES_PER_TOKEN " << decode->bytesPerToken
       << "ull\n"
       << "#define TMC_MODEL_MAX_TOKENS " << decode->maxTokens
       << " /* 0: unbounded (sliding window) */\n"
       << "#define TMC_MODEL_PREFILL_CHUNK " << decode->chunk << "\n"
       << "#define TMC_MODEL_VOCAB " << decode->vocab << "\n\n";
    os << "/* Arguments of tmc_model_prefill, in order (each a pointer to a\n"
          "   strided memref descriptor of the given rank):\n"
          "     weights  uint8[" << weightsBytes << "]\n"
          "     arena    uint8[" << arenaBytes << "]\n"
          "     cache    uint8[" << decode->cacheBytes << "]\n"
          "     input input_ids i64[1, " << decode->chunk << "]\n"
          "     input position i64[1]  (of the first token)\n"
          "     input length i64[1]    (valid tokens, the rest is padding)\n"
          "     output logits f32[1, 1, " << decode->vocab << "]\n"
          "   tmc_model_decode takes the same without `length`, with\n"
          "   input_ids i64[1, 1]. */\n\n";
  } else {
    os << "\n/* Arguments of tmc_model_forward, in order (each a pointer to a\n"
          "   strided memref descriptor of the given rank):\n"
          "     weights  uint8[" << weightsBytes << "]\n"
          "     arena    uint8[" << arenaBytes << "]\n";
    SmallVector<StringRef> lines;
    signature.split(lines, '\n', -1, false);
    for (StringRef line : lines) {
      SmallVector<StringRef> fields;
      line.split(fields, ' ');
      if (fields.size() < 4)
        continue;
      os << "     " << fields[0] << " " << fields[1] << " " << fields[2]
         << "[";
      for (size_t i = 4; i < fields.size(); ++i)
        os << (i > 4 ? ", " : "") << fields[i];
      os << "]\n";
    }
    os << "*/\n\n";
  }
  os << "/* A strided memref descriptor of rank R (docs/ABI.md). */\n"
        "#define TMC_MEMREF(R) struct { void *allocated; void *aligned; "
        "int64_t offset; int64_t sizes[R]; int64_t strides[R]; }\n\n";
  os << "uint64_t tmc_model_abi_version(void);\n"
        "const char *tmc_model_signature(void);\n"
        "uint64_t tmc_model_weights_bytes(void);\n"
        "uint64_t tmc_model_weights_hash(void);\n"
        "uint64_t tmc_model_arena_bytes(void);\n";
  if (report.decode)
    os << "uint64_t tmc_model_cache_bytes(void);\n"
          "void tmc_model_prefill(void **args);\n"
          "void tmc_model_decode(void **args);\n";
  else
    os << "void tmc_model_forward(void **args);\n";
  if (!target.empty())
    os << "const char *tmc_model_target(void);\n";
  os << "\n"
        "#ifdef __cplusplus\n}\n#endif\n\n#endif /* TMC_MODEL_H */\n";
  return success();
}

/// "file:line:col" of the first file location in `loc` (a layer's op
/// inlined into the model: the op in the layer), or "".
static std::string fileLocation(Location loc) {
  auto fileLoc = loc->findInstanceOf<FileLineColLoc>();
  if (!fileLoc)
    return "";
  return (llvm::sys::path::filename(fileLoc.getFilename().getValue()) + ":" +
          llvm::Twine(fileLoc.getLine()) + ":" + llvm::Twine(fileLoc.getColumn()))
      .str();
}

SourceOps mlir::tmc::collectSourceOps(ModuleOp module) {
  SourceOps sources;
  module.walk([&](Operation *op) {
    std::string where = fileLocation(op->getLoc());
    if (!where.empty() && !isa<ModuleOp>(op))
      sources.emplace(where, op->getName().getStringRef().str());
  });
  return sources;
}

LogicalResult mlir::tmc::writeKernelTable(Location loc, StringRef path,
                                          ModuleOp module,
                                          const SourceOps &sources) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return emitError(loc) << "cannot write '" << path << "': " << ec.message();
  os << "kernel\tfunction\top\tlocation\n";
  module.walk([&](gpu::LaunchFuncOp launch) {
    StringRef function = "?";
    if (auto symbol = launch->getParentOfType<SymbolOpInterface>())
      if (!isa<ModuleOp>(symbol))
        function = symbol.getName();
    std::string where = fileLocation(launch.getLoc());
    auto source = sources.find(where);
    os << launch.getKernelName().getValue() << "\t" << function << "\t"
       << (source != sources.end() ? source->second : "?") << "\t"
       << (where.empty() ? "?" : where) << "\n";
  });
  return success();
}
