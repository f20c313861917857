// RUN: tmc-opt %s --pass-pipeline="builtin.module(gpu.module(tmc-gpu-align-workgroup-memory))" | FileCheck %s
// RUN: tmc-opt %s --pass-pipeline="builtin.module(gpu.module(tmc-gpu-align-workgroup-memory{alignment=128}))" | FileCheck %s --check-prefix=A128
// RUN: not tmc-opt %s --pass-pipeline="builtin.module(gpu.module(tmc-gpu-align-workgroup-memory{alignment=24}))" 2>&1 | FileCheck %s --check-prefix=BAD

// Every workgroup attribution gets 32 bytes unless it asks for more.
// CHECK: gpu.func @k() workgroup(%{{.*}} : memref<16xf16, #gpu.address_space<workgroup>> {llvm.align = 32 : i64}, %{{.*}} : memref<8xf32, #gpu.address_space<workgroup>> {llvm.align = 64 : i64})
// A128: gpu.func @k() workgroup(%{{.*}} : memref<16xf16, #gpu.address_space<workgroup>> {llvm.align = 128 : i64}, %{{.*}} : memref<8xf32, #gpu.address_space<workgroup>> {llvm.align = 128 : i64})
// BAD: tmc-gpu-align-workgroup-memory: alignment must be a power of two, got 24
gpu.module @kernels {
  gpu.func @k() workgroup(%a : memref<16xf16, #gpu.address_space<workgroup>>, %b : memref<8xf32, #gpu.address_space<workgroup>> {llvm.align = 64 : i64}) kernel {
    gpu.return
  }
}
