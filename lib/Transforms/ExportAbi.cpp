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
    auto entry = module.lookupSymbol<LLVM::LLVMFuncOp>("_mlir_ciface_forward");
    if (!entry) {
      module.emitError("tmc-export-abi: no '_mlir_ciface_forward' function; "
                       "the model function 'forward' must be lowered with "
                       "llvm.emit_c_interface");
      return signalPassFailure();
    }
    auto signature = module->getAttrOfType<StringAttr>("tmc.signature");
    if (!signature) {
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
         << "\narena " << arenaBytes << "\n"
         << signature.getValue();
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

    // tmc_model_forward(void **args): unpack the descriptor pointers and
    // call the C interface of the model function.
    {
      auto func = LLVM::LLVMFuncOp::create(
          builder, loc, "tmc_model_forward",
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
