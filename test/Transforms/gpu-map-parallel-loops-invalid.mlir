// RUN: tmc-opt %s --tmc-gpu-map-parallel-loops=threads=2048 -verify-diagnostics

// expected-error @+1 {{tmc-gpu-map-parallel-loops: threads must be in [1, 1024], got 2048}}
func.func @f() {
  return
}
