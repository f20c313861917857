// RUN: tmc-opt %s --tmc-gpu-tile-matmuls=tile=64 -verify-diagnostics

// expected-error @+1 {{tmc-gpu-tile-matmuls: tile * tile must be a block size in [1, 1024], got tile = 64}}
func.func @f() {
  return
}
