//===- TransformRecord.cpp - Records of what transforms did -----*- C++ -*-===//
//
// This file implements the `tmc.transforms` records that the tfm-level
// transforms leave for the memory report.
//
//===----------------------------------------------------------------------===//

#include "tmc/Dialect/Tfm/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

using namespace mlir;

void mlir::tfm::appendTransformRecord(ModuleOp module,
                                      ArrayRef<NamedAttribute> fields) {
  Builder b(module.getContext());
  SmallVector<Attribute> transforms;
  if (auto existing = module->getAttrOfType<ArrayAttr>("tmc.transforms"))
    transforms.append(existing.begin(), existing.end());
  transforms.push_back(b.getDictionaryAttr(fields));
  module->setAttr("tmc.transforms", b.getArrayAttr(transforms));
}
