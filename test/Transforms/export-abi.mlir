// RUN: tmc-opt %s --split-input-file --tmc-export-abi | FileCheck %s

// The entry points of docs/ABI.md, from the module's attributes. The hash
// -303714592294026184 is 0xfbc8fd2ffd364438 as an unsigned 64-bit value.

// CHECK-LABEL: module attributes
// The attributes stay for the driver's report.
// CHECK-SAME: tmc.arena_bytes = 1024 : i64
// CHECK-SAME: tmc.signature =
// CHECK-SAME: tmc.weights_bytes = 4096 : i64
// CHECK-SAME: tmc.weights_hash = -303714592294026184 : i64

// The signature text: weights and arena lines, then the recorded signature,
// NUL-terminated.
// CHECK: llvm.mlir.global internal constant @tmc_model_signature_text("weights 4096 fbc8fd2ffd364438\0Aarena 1024\0Ainput input_ids i64 2 1 8\0Aoutput logits f32 3 1 8 128\0A\00")

// CHECK-LABEL: llvm.func @tmc_model_abi_version() -> i64
// CHECK-NEXT: %[[V:.*]] = llvm.mlir.constant(1 : i64) : i64
// CHECK-NEXT: llvm.return %[[V]] : i64

// CHECK-LABEL: llvm.func @tmc_model_weights_bytes() -> i64
// CHECK-NEXT: %[[V:.*]] = llvm.mlir.constant(4096 : i64) : i64
// CHECK-NEXT: llvm.return %[[V]] : i64

// CHECK-LABEL: llvm.func @tmc_model_weights_hash() -> i64
// CHECK-NEXT: %[[V:.*]] = llvm.mlir.constant(-303714592294026184 : i64) : i64
// CHECK-NEXT: llvm.return %[[V]] : i64

// CHECK-LABEL: llvm.func @tmc_model_arena_bytes() -> i64
// CHECK-NEXT: %[[V:.*]] = llvm.mlir.constant(1024 : i64) : i64
// CHECK-NEXT: llvm.return %[[V]] : i64

// CHECK-LABEL: llvm.func @tmc_model_signature() -> !llvm.ptr
// CHECK-NEXT: %[[G:.*]] = llvm.mlir.addressof @tmc_model_signature_text : !llvm.ptr
// CHECK-NEXT: %[[P:.*]] = llvm.getelementptr %[[G]][0, 0] : (!llvm.ptr) -> !llvm.ptr, !llvm.array<96 x i8>
// CHECK-NEXT: llvm.return %[[P]] : !llvm.ptr

// tmc_model_forward(void **args) loads one pointer per argument of the C
// interface, in order, and calls it.
// CHECK-LABEL: llvm.func @tmc_model_forward
// CHECK-SAME: (%[[ARGS:.*]]: !llvm.ptr)
// CHECK-NEXT: %[[S0:.*]] = llvm.getelementptr %[[ARGS]][0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK-NEXT: %[[P0:.*]] = llvm.load %[[S0]] : !llvm.ptr -> !llvm.ptr
// CHECK-NEXT: %[[S1:.*]] = llvm.getelementptr %[[ARGS]][1] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK-NEXT: %[[P1:.*]] = llvm.load %[[S1]] : !llvm.ptr -> !llvm.ptr
// CHECK-NEXT: %[[S2:.*]] = llvm.getelementptr %[[ARGS]][2] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK-NEXT: %[[P2:.*]] = llvm.load %[[S2]] : !llvm.ptr -> !llvm.ptr
// CHECK-NEXT: %[[S3:.*]] = llvm.getelementptr %[[ARGS]][3] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK-NEXT: %[[P3:.*]] = llvm.load %[[S3]] : !llvm.ptr -> !llvm.ptr
// CHECK-NEXT: llvm.call @_mlir_ciface_forward(%[[P0]], %[[P1]], %[[P2]], %[[P3]]) : (!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr) -> ()
// CHECK-NEXT: llvm.return
module attributes {tmc.signature = "input input_ids i64 2 1 8\0Aoutput logits f32 3 1 8 128\0A", tmc.weights_bytes = 4096 : i64, tmc.weights_hash = -303714592294026184 : i64, tmc.arena_bytes = 1024 : i64} {
  llvm.func @_mlir_ciface_forward(%weights: !llvm.ptr, %arena: !llvm.ptr, %ids: !llvm.ptr, %logits: !llvm.ptr) {
    llvm.return
  }
}

// -----

// Missing sizes and hash read as 0; a C interface with two arguments gets
// two loads.

// CHECK-LABEL: module attributes
// CHECK: llvm.mlir.global internal constant @tmc_model_signature_text("weights 0 0000000000000000\0Aarena 0\0Aoutput y f32 1 4\0A\00")
// CHECK-LABEL: llvm.func @tmc_model_weights_bytes() -> i64
// CHECK-NEXT: llvm.mlir.constant(0 : i64) : i64
// CHECK-LABEL: llvm.func @tmc_model_weights_hash() -> i64
// CHECK-NEXT: llvm.mlir.constant(0 : i64) : i64
// CHECK-LABEL: llvm.func @tmc_model_arena_bytes() -> i64
// CHECK-NEXT: llvm.mlir.constant(0 : i64) : i64
// CHECK-LABEL: llvm.func @tmc_model_forward
// CHECK-COUNT-2: llvm.load
// CHECK-NOT: llvm.load
// CHECK: llvm.call @_mlir_ciface_forward(%{{.*}}, %{{.*}}) : (!llvm.ptr, !llvm.ptr) -> ()
module attributes {tmc.signature = "output y f32 1 4\0A"} {
  llvm.func @_mlir_ciface_forward(!llvm.ptr, !llvm.ptr)
}
