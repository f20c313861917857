// RUN: tmc-opt %s --split-input-file --tmc-gpu-merge-modules -verify-diagnostics | FileCheck %s

// Two outlined modules (one kernel each, both named like outlining names
// them, and a copy of the same global) become one module; launches follow.
// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK: gpu.module @tmc_kernels {
// CHECK-DAG: memref.global "private" constant @mask
// CHECK-DAG: gpu.func @f_kernel(
// CHECK-DAG: gpu.func @f_kernel_0(
// CHECK-NOT: gpu.module
// CHECK: func.func @f
// CHECK: gpu.launch_func @tmc_kernels::@f_kernel blocks
// CHECK: gpu.launch_func @tmc_kernels::@f_kernel_0 blocks
module attributes {gpu.container_module} {
  gpu.module @f_kernel {
    memref.global "private" constant @mask : memref<2xi8> = dense<[1, 0]>
    gpu.func @f_kernel(%a: memref<2xi8>) kernel {
      gpu.return
    }
  }
  gpu.module @f_kernel_0 {
    memref.global "private" constant @mask : memref<2xi8> = dense<[1, 0]>
    gpu.func @f_kernel(%a: memref<2xi8>) kernel {
      gpu.return
    }
  }
  func.func @f(%a: memref<2xi8>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @f_kernel::@f_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<2xi8>)
    gpu.launch_func @f_kernel_0::@f_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<2xi8>)
    return
  }
}

// -----

module attributes {gpu.container_module} {
  // expected-error @+1 {{tmc-gpu-merge-modules: only modules that hold nothing but kernels and the globals they read (as gpu-kernel-outlining creates them, before a target is attached) can be merged}}
  gpu.module @k [#nvvm.target] {
    gpu.func @k(%a: memref<2xi8>) kernel {
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @a {
    memref.global "private" constant @g : memref<2xi8> = dense<[1, 0]>
  }
  gpu.module @b {
    // expected-error @+1 {{tmc-gpu-merge-modules: two kernel modules hold different globals named 'g'}}
    memref.global "private" constant @g : memref<2xi8> = dense<[0, 1]>
  }
}

// -----

module attributes {gpu.container_module} {
  // expected-error @+1 {{tmc-gpu-merge-modules: a gpu.module is already named 'tmc_kernels'}}
  gpu.module @tmc_kernels {
  }
}
