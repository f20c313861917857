// RUN: tmc-opt %s --tmc-export-abi -split-input-file -verify-diagnostics

// expected-error @+1 {{tmc-export-abi: no '_mlir_ciface_forward' function; the model function 'forward' must be lowered with llvm.emit_c_interface}}
module attributes {tmc.signature = "output y f32 1 4\0A"} {
  llvm.func @forward(%a: !llvm.ptr) {
    llvm.return
  }
}

// -----

// expected-error @+1 {{tmc-export-abi: the module has no 'tmc.signature' (recorded by tfm-bind-weights)}}
module attributes {tmc.weights_bytes = 16 : i64} {
  llvm.func @_mlir_ciface_forward(%a: !llvm.ptr) {
    llvm.return
  }
}
