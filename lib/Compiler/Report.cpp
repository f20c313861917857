//===- Report.cpp - The compiled model's report and header ------*- C++ -*-===//
//
// This file implements the buffer survey of the bufferized model, the
// memory report and the generated C header.
//
//===----------------------------------------------------------------------===//

#include "Report.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
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

/// A readable name for an allocation: its location's name or file:line.
static std::string bufferName(memref::AllocOp alloc, unsigned index) {
  std::string name;
  llvm::raw_string_ostream os(name);
  Location loc = alloc.getLoc();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    loc = fused.getLocations().front();
  if (auto named = dyn_cast<NameLoc>(loc))
    os << named.getName().getValue();
  else if (auto file = dyn_cast<FileLineColLoc>(loc))
    os << llvm::sys::path::filename(file.getFilename().getValue()) << ":"
       << file.getLine();
  else
    os << "buffer";
  os << "#" << index;
  return name;
}

BufferReport mlir::tmc::collectBuffers(func::FuncOp func) {
  // Number the ops in pre-order; each op's subtree spans [index, end].
  llvm::DenseMap<Operation *, int64_t> index, end;
  int64_t counter = 0;
  std::function<void(Operation *)> number = [&](Operation *op) {
    index[op] = counter++;
    for (Region &region : op->getRegions())
      for (Block &block : region)
        for (Operation &nested : block)
          number(&nested);
    end[op] = counter - 1;
  };
  for (Operation &op : func.getBody().front())
    number(&op);

  BufferReport report;
  std::vector<std::pair<int64_t, int64_t>> events; // (point, +/- bytes)
  unsigned count = 0;
  func.walk([&](memref::AllocOp alloc) {
    MemRefType type = alloc.getType();
    if (!type.hasStaticShape())
      return;
    BufferInfo info;
    info.name = bufferName(alloc, count++);
    info.size = type.getNumElements() *
                static_cast<int64_t>(
                    llvm::divideCeil(type.getElementTypeBitWidth(), 8));
    info.firstUse = index[alloc];
    info.lastUse = info.firstUse;
    info.inLoop = alloc->getParentOfType<LoopLikeOpInterface>() != nullptr;
    // Follow aliases (views, casts) to every real use; a use nested in an
    // op of the allocation's block keeps the buffer live through that op.
    SmallVector<Value> worklist = {alloc.getResult()};
    while (!worklist.empty()) {
      Value value = worklist.pop_back_val();
      for (Operation *user : value.getUsers()) {
        if (isa<memref::DeallocOp>(user))
          continue;
        if (auto view = dyn_cast<ViewLikeOpInterface>(user))
          if (view.getViewSource() == value)
            worklist.push_back(view->getResult(0));
        if (isa<memref::CastOp, memref::ReinterpretCastOp,
                memref::ExpandShapeOp, memref::CollapseShapeOp>(user))
          worklist.push_back(user->getResult(0));
        Operation *ancestor = alloc->getBlock()->findAncestorOpInBlock(*user);
        if (ancestor)
          info.lastUse = std::max(info.lastUse, end[ancestor]);
      }
    }
    report.totalBytes += info.size;
    events.push_back({info.firstUse, info.size});
    events.push_back({info.lastUse + 1, -info.size});
    report.buffers.push_back(info);
  });
  // Lay buffers out one after another: the plan without reuse.
  int64_t offset = 0;
  for (BufferInfo &info : report.buffers) {
    info.offset = offset;
    offset += llvm::alignTo(info.size, 64);
  }
  // Lower bound: the peak of the live bytes over program points.
  std::sort(events.begin(), events.end(), [](auto a, auto b) {
    return a.first != b.first ? a.first < b.first : a.second < b.second;
  });
  int64_t live = 0;
  for (auto [point, delta] : events) {
    live += delta;
    report.lowerBoundBytes = std::max(report.lowerBoundBytes, live);
  }
  return report;
}

LogicalResult mlir::tmc::writeReport(Location loc, StringRef path,
                                     const ModelReport &report) {
  llvm::json::Array buffers;
  int64_t unplannedArena = 0;
  for (const BufferInfo &info : report.buffers.buffers) {
    buffers.push_back(llvm::json::Object{{"name", info.name},
                                         {"size", info.size},
                                         {"offset", info.offset},
                                         {"first_use", info.firstUse},
                                         {"last_use", info.lastUse},
                                         {"in_loop", info.inLoop}});
    unplannedArena = std::max(unplannedArena,
                              info.offset + static_cast<int64_t>(
                                                llvm::alignTo(info.size, 64)));
  }
  llvm::json::Object root{
      {"seq_len", report.seqLen},
      // Without buffer planning every buffer is a separate heap block: the
      // arena figure is what laying them out without reuse takes.
      {"arena_bytes", unplannedArena},
      {"arena_planned", false},
      {"model_arena_bytes", report.arenaBytes},
      {"lower_bound_bytes", report.buffers.lowerBoundBytes},
      {"buffers_total_bytes", report.buffers.totalBytes},
      {"weights_bytes_before", report.weightsBytesBefore},
      {"weights_bytes_after", report.weightsBytesAfter},
      {"buffers", std::move(buffers)},
      {"transforms", llvm::json::Array{}}};
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return emitError(loc) << "cannot write '" << path << "': " << ec.message();
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
  return success();
}

LogicalResult mlir::tmc::writeHeader(Location loc, StringRef path,
                                     StringRef signature, int64_t weightsBytes,
                                     uint64_t weightsHash, int64_t arenaBytes) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return emitError(loc) << "cannot write '" << path << "': " << ec.message();
  os << "/* Generated by tmc-compile: the entry points of a compiled model.\n"
        "   The ABI is described in TMC's docs/ABI.md (version 1). */\n"
        "#ifndef TMC_MODEL_H\n#define TMC_MODEL_H\n\n"
        "#include <stdint.h>\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  os << "#define TMC_MODEL_ABI_VERSION 1\n";
  os << "#define TMC_MODEL_WEIGHTS_BYTES " << weightsBytes << "ull\n";
  os << "#define TMC_MODEL_WEIGHTS_HASH 0x"
     << llvm::format_hex_no_prefix(weightsHash, 16) << "ull\n";
  os << "#define TMC_MODEL_ARENA_BYTES " << arenaBytes << "ull\n\n";
  os << "/* Arguments of tmc_model_forward, in order (each a pointer to a\n"
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
    os << "     " << fields[0] << " " << fields[1] << " " << fields[2] << "[";
    for (size_t i = 4; i < fields.size(); ++i)
      os << (i > 4 ? ", " : "") << fields[i];
    os << "]\n";
  }
  os << "*/\n\n";
  os << "/* A strided memref descriptor of rank R (docs/ABI.md). */\n"
        "#define TMC_MEMREF(R) struct { void *allocated; void *aligned; "
        "int64_t offset; int64_t sizes[R]; int64_t strides[R]; }\n\n";
  os << "uint64_t tmc_model_abi_version(void);\n"
        "const char *tmc_model_signature(void);\n"
        "uint64_t tmc_model_weights_bytes(void);\n"
        "uint64_t tmc_model_weights_hash(void);\n"
        "uint64_t tmc_model_arena_bytes(void);\n"
        "void tmc_model_forward(void **args);\n\n"
        "#ifdef __cplusplus\n}\n#endif\n\n#endif /* TMC_MODEL_H */\n";
  return success();
}
