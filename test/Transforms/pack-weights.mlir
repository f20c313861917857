// A checkpoint holding "w" = [1, 2, 3, 4] (F32), next to which the module's
// relative tfm.weights_file resolves through base-dir.
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python -c "import json, struct, sys; d = struct.pack('<4f', 1, 2, 3, 4); h = json.dumps({'w': {'dtype': 'F32', 'shape': [4], 'data_offsets': [0, 16]}}).encode(); h += b' ' * (-len(h) % 8); open(sys.argv[1], 'wb').write(struct.pack('<Q', len(h)) + h + d)" %t/w.safetensors

// Pack with the default 64-byte alignment.
// RUN: tmc-opt %s --tfm-bind-weights --tmc-pack-weights="output=%t/w.bin base-dir=%t" -o %t/packed.mlir
// RUN: FileCheck %s < %t/packed.mlir
// RUN: wc -c < %t/w.bin | FileCheck %s --check-prefix=SIZE
// RUN: od -An -tx1 -v %t/w.bin | FileCheck %s --check-prefix=BYTES

// The recorded hash is FNV-1a 64 of the file's bytes (an i64 attribute, so
// printed signed), computed here independently.
// RUN: %python -c "import functools, sys; h = functools.reduce(lambda h, b: ((h ^ b) * 0x100000001b3) % (1 << 64), open(sys.argv[1], 'rb').read(), 0xcbf29ce484222325); print('hash', h - (1 << 64) if h >> 63 else h)" %t/w.bin > %t/hash.txt
// RUN: cat %t/hash.txt %t/packed.mlir | FileCheck %s --check-prefix=HASH

// Without an output file only the hash is computed: the same hash.
// RUN: tmc-opt %s --tfm-bind-weights --tmc-pack-weights="base-dir=%t" -o %t/hash-only.mlir
// RUN: cat %t/hash.txt %t/hash-only.mlir | FileCheck %s --check-prefix=HASH

// With 4-byte alignment the padding shrinks.
// RUN: tmc-opt %s --tfm-bind-weights=alignment=4 --tmc-pack-weights="output=%t/w4.bin base-dir=%t" | FileCheck %s --check-prefix=ALIGN4
// RUN: od -An -tx1 -v %t/w4.bin | FileCheck %s --check-prefix=BYTES4

// CHECK-LABEL: module attributes
// CHECK-SAME: tmc.weights_bytes = 324 : i64
// CHECK-SAME: tmc.weights_hash = {{-?[0-9]+}} : i64

// SIZE: {{^ *}}324{{$}}

// HASH: hash [[H:-?[0-9]+]]
// HASH: tmc.weights_hash = [[H]] : i64

// "a" (dense) at 0, "s" (splat) at 64, "w" (checkpoint) at 128, "r"
// (dense_resource) at 192, "i" (i8) at 256, "h" (f16 splat) at 320; zeros
// between them.
// BYTES:      00 00 80 3f 00 00 00 40 00 00 00 00 00 00 00 00
// BYTES-NEXT: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
// BYTES-NEXT: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
// BYTES-NEXT: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
// BYTES-NEXT: 00 00 00 3f 00 00 00 3f 00 00 00 3f 00 00 00 00
// BYTES-NEXT: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
// BYTES-NEXT: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
// BYTES-NEXT: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
// BYTES-NEXT: 00 00 80 3f 00 00 00 40 00 00 40 40 00 00 80 40
// BYTES-NEXT: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
// BYTES-NEXT: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
// BYTES-NEXT: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
// BYTES-NEXT: 00 00 a0 3f 00 00 c0 3f 00 00 00 00 00 00 00 00
// BYTES-NEXT: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
// BYTES-NEXT: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
// BYTES-NEXT: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
// BYTES-NEXT: 01 02 03 00 00 00 00 00 00 00 00 00 00 00 00 00
// BYTES-NEXT: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
// BYTES-NEXT: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
// BYTES-NEXT: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
// BYTES-NEXT: 00 3c 00 3c{{$}}
// BYTES-NOT: {{.}}

// ALIGN4: tmc.weights_bytes = 52 : i64
// Offsets 0, 8, 20, 36, 44, 48.
// BYTES4:      00 00 80 3f 00 00 00 40 00 00 00 3f 00 00 00 3f
// BYTES4-NEXT: 00 00 00 3f 00 00 80 3f 00 00 00 40 00 00 40 40
// BYTES4-NEXT: 00 00 80 40 00 00 a0 3f 00 00 c0 3f 01 02 03 00
// BYTES4-NEXT: 00 3c 00 3c{{$}}
// BYTES4-NOT: {{.}}

module attributes {tfm.weights_file = "w.safetensors"} {
func.func @forward() -> (tensor<2xf32>, tensor<3xf32>, tensor<4xf32>, tensor<2xf32>, tensor<3xi8>, tensor<2xf16>) {
  %a = tfm.param "a" {value = dense<[1.0, 2.0]> : tensor<2xf32>} : tensor<2xf32>
  %s = tfm.param "s" {value = dense<0.5> : tensor<3xf32>} : tensor<3xf32>
  %w = tfm.param "w" : tensor<4xf32>
  %r = tfm.param "r" {value = dense_resource<blob> : tensor<2xf32>} : tensor<2xf32>
  %i = tfm.param "i" {value = dense<[1, 2, 3]> : tensor<3xi8>} : tensor<3xi8>
  %h = tfm.param "h" {value = dense<1.0> : tensor<2xf16>} : tensor<2xf16>
  return %a, %s, %w, %r, %i, %h : tensor<2xf32>, tensor<3xf32>, tensor<4xf32>, tensor<2xf32>, tensor<3xi8>, tensor<2xf16>
}
}

{-#
  dialect_resources: {
    builtin: {
      blob: "0x040000000000A03F0000C03F"
    }
  }
#-}
