//===- ExportAbi.cpp - Emit the compiled-model ABI entry points -*- C++ -*-===//
//
// This file implements `tmc-export-abi`, which adds the entry points of the
// compiled-model ABI (docs/ABI.md) to a module lowered to the LLVM dialect.
//
//===----------------------------------------------------------------------===//

#include "tmc/Transforms/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "llvm/Support/Format.h"

namespace mlir {
namespace tmc {
#define GEN_PASS_DEF_TMCEXPORTABI
#include "tmc/Transforms/Passes.h.inc"
} // namespace tmc
} // namespace mlir

using namespace mlir;
using namespace mlir::tmc;

namespace {

/// The version of docs/ABI.md that the exported entry points follow.
constexpr int64_t kAbiVersion = 1;

struct TmcExportAbiPass
    : public tmc::impl::TmcExportAbiBase<TmcExportAbiPass> {
  using TmcExportAbiBase::TmcExportAbiBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    // A decoding build (tfm-kv-cache) has prefill and decode steps over a
    // KV cache instead of one forward function.
    auto decode = module->getAttrOfType<DictionaryAttr>("tmc.decode");
    SmallVector<StringRef> entryNames;
    if (decode)
      entryNames = {"prefill", "decode"};
    else
      entryNames = {"forward"};
    SmallVector<LLVM::LLVMFuncOp> entries;
    for (StringRef name : entryNames) {
      std::string symbol = ("_mlir_ciface_" + name).str();
      auto entry = module.lookupSymbol<LLVM::LLVMFuncOp>(symbol);
      if (!entry) {
        module.emitError("tmc-export-abi: no '")
            << symbol << "' function; the model function '" << name
            << "' must be lowered with llvm.emit_c_interface";
        return signalPassFailure();
      }
      entries.push_back(entry);
    }
    auto signature = module->getAttrOfType<StringAttr>("tmc.signature");
    if (!signature && !decode) {
      module.emitError("tmc-export-abi: the module has no 'tmc.signature' "
                       "(recorded by tfm-bind-weights)");
      return signalPassFailure();
    }
    auto intAttr = [&](StringRef name) -> int64_t {
      if (auto attr = module->getAttrOfType<IntegerAttr>(name))
        return attr.getValue().getZExtValue();
      return 0;
    };
    int64_t weightsBytes = intAttr("tmc.weights_bytes");
    int64_t weightsHash = intAttr("tmc.weights_hash");
    int64_t arenaBytes = intAttr("tmc.arena_bytes");

    OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
    Location loc = module.getLoc();
    Type i64 = builder.getI64Type();
    Type ptr = LLVM::LLVMPointerType::get(ctx);
    Type voidType = LLVM::LLVMVoidType::get(ctx);

    auto addConstantGetter = [&](StringRef name, int64_t value) {
      auto func = LLVM::LLVMFuncOp::create(builder, loc, name,
                                           LLVM::LLVMFunctionType::get(i64, {}));
      OpBuilder::InsertionGuard guard(builder);
      builder.setInsertionPointToStart(func.addEntryBlock(builder));
      Value constant = LLVM::ConstantOp::create(builder, loc, i64,
                                                builder.getI64IntegerAttr(value));
      LLVM::ReturnOp::create(builder, loc, constant);
    };
    addConstantGetter("tmc_model_abi_version", kAbiVersion);
    addConstantGetter("tmc_model_weights_bytes", weightsBytes);
    addConstantGetter("tmc_model_weights_hash", weightsHash);
    addConstantGetter("tmc_model_arena_bytes", arenaBytes);
    auto decodeInt = [&](StringRef name) -> int64_t {
      if (auto attr = decode.getAs<IntegerAttr>(name))
        return attr.getInt();
      return 0;
    };
    if (decode)
      addConstantGetter("tmc_model_cache_bytes", decodeInt("cache_bytes"));

    {
      auto func = LLVM::LLVMFuncOp::create(
          builder, loc, "tmc_model_signature",
          LLVM::LLVMFunctionType::get(ptr, {}));
      OpBuilder::InsertionGuard guard(builder);
      builder.setInsertionPointToStart(func.addEntryBlock(builder));
      std::string text;
      llvm::raw_string_ostream os(text);
      os << "weights " << weightsBytes << " "
         << llvm::format_hex_no_prefix(static_cast<uint64_t>(weightsHash), 16)
         << "\narena " << arenaBytes << "\n";
      if (decode) {
        auto cacheType = decode.getAs<StringAttr>("cache_type");
        os << "decode " << decodeInt("cache_bytes") << " "
           << decodeInt("max_tokens") << " " << decodeInt("chunk") << " "
           << decodeInt("vocab") << " " << decodeInt("window") << " "
           << decodeInt("sinks") << " "
           << (cacheType ? cacheType.getValue() : "f32") << "\n";
      } else {
        os << signature.getValue();
      }
      text.push_back('\0');
      Value str = LLVM::createGlobalString(loc, builder,
                                           "tmc_model_signature_text", text,
                                           LLVM::Linkage::Internal);
      LLVM::ReturnOp::create(builder, loc, str);
    }

    // tmc_model_target(): only for models whose buffers are not host
    // memory; its absence means "cpu".
    if (target != "cpu") {
      auto func = LLVM::LLVMFuncOp::create(
          builder, loc, "tmc_model_target", LLVM::LLVMFunctionType::get(ptr, {}));
      OpBuilder::InsertionGuard guard(builder);
      builder.setInsertionPointToStart(func.addEntryBlock(builder));
      std::string text = target;
      text.push_back('\0');
      Value str = LLVM::createGlobalString(loc, builder,
                                           "tmc_model_target_text", text,
                                           LLVM::Linkage::Internal);
      LLVM::ReturnOp::create(builder, loc, str);
    }

    // tmc_model_<entry>(void **args): unpack the descriptor pointers and
    // call the C interface of the entry's function.
    for (auto [name, entry] : llvm::zip(entryNames, entries)) {
      auto func = LLVM::LLVMFuncOp::create(
          builder, loc, ("tmc_model_" + name).str(),
          LLVM::LLVMFunctionType::get(voidType, {ptr}));
      OpBuilder::InsertionGuard guard(builder);
      Block *body = func.addEntryBlock(builder);
      builder.setInsertionPointToStart(body);
      Value args = body->getArgument(0);
      SmallVector<Value> pointers;
      for (unsigned i = 0, e = entry.getNumArguments(); i < e; ++i) {
        Value slot = LLVM::GEPOp::create(builder, loc, ptr, ptr, args,
                                         ArrayRef<LLVM::GEPArg>{int32_t(i)});
        pointers.push_back(LLVM::LoadOp::create(builder, loc, ptr, slot));
      }
      LLVM::CallOp::create(builder, loc, entry, pointers);
      LLVM::ReturnOp::create(builder, loc, ValueRange{});
    }
  }
};

} // namespace
