// RUN: rm -rf %t && mkdir -p %t
// RUN: %python -c "import json, struct, sys; d = struct.pack('<4f', 1, 2, 3, 4); h = json.dumps({'w': {'dtype': 'F32', 'shape': [4], 'data_offsets': [0, 16]}}).encode(); h += b' ' * (-len(h) % 8); open(sys.argv[1], 'wb').write(struct.pack('<Q', len(h)) + h + d)" %t/w.safetensors
// RUN: tmc-opt %s --tmc-pack-weights="base-dir=%t" -split-input-file -verify-diagnostics

// An output that cannot be created.
// RUN: not tmc-opt %s --split-input-file --tmc-pack-weights="base-dir=%t output=%t/no-such-dir/w.bin" 2>&1 | FileCheck %s --check-prefix=NOWRITE
// NOWRITE: error: cannot write '{{.*}}no-such-dir/w.bin'

// expected-error @+1 {{tmc-pack-weights: no 'tmc.weight_layout' on the module (run tfm-bind-weights first)}}
module {
}

// -----

// expected-error @+1 {{tmc.weight_layout: malformed entry 1 : i64; expected {name, offset, type[, value]} as tfm-bind-weights records them}}
module attributes {tmc.weight_layout = [1 : i64]} {
}

// -----

// expected-error @+1 {{tmc.weight_layout: malformed entry {name = "a", offset = 0 : i64}}}
module attributes {tmc.weight_layout = [{name = "a", offset = 0 : i64}]} {
}

// -----

// expected-error @+1 {{tmc.weight_layout: malformed entry}}
module attributes {tmc.weight_layout = [{name = "a", offset = -8 : i64, type = tensor<2xf32>}]} {
}

// -----

// expected-error @+1 {{tmc.weight_layout: parameter 'b' at offset 4 overlaps the previous one}}
module attributes {tmc.weight_layout = [
    {name = "a", offset = 0 : i64, type = tensor<2xf32>, value = dense<1.0> : tensor<2xf32>},
    {name = "b", offset = 4 : i64, type = tensor<2xf32>, value = dense<1.0> : tensor<2xf32>}]} {
}

// -----

// expected-error @+1 {{parameters without inline values need a 'tfm.weights_file' on the module}}
module attributes {tmc.weight_layout = [{name = "w", offset = 0 : i64, type = tensor<4xf32>}]} {
}

// -----

// expected-error @+1 {{/no/such/dir/w.safetensors: cannot open}}
module attributes {tfm.weights_file = "/no/such/dir/w.safetensors", tmc.weight_layout = [{name = "w", offset = 0 : i64, type = tensor<4xf32>}]} {
}

// -----

// expected-error-re @+1 {{'{{.*}}w.safetensors': no tensor named 'v'}}
module attributes {tfm.weights_file = "w.safetensors", tmc.weight_layout = [{name = "v", offset = 0 : i64, type = tensor<4xf32>}]} {
}

// -----

// expected-error-re @+1 {{'{{.*}}w.safetensors': tensor 'w' has dtype F32 but the model expects 'f16'}}
module attributes {tfm.weights_file = "w.safetensors", tmc.weight_layout = [{name = "w", offset = 0 : i64, type = tensor<4xf16>}]} {
}

// -----

// expected-error-re @+1 {{'{{.*}}w.safetensors': tensor 'w' has shape [4] but the model expects [2, 2]}}
module attributes {tfm.weights_file = "w.safetensors", tmc.weight_layout = [{name = "w", offset = 0 : i64, type = tensor<2x2xf32>}]} {
}

// -----

// expected-error @+1 {{parameter 'r': its dense_resource blob is missing}}
module attributes {tmc.weight_layout = [{name = "r", offset = 0 : i64, type = tensor<2xf32>, value = dense_resource<missing> : tensor<2xf32>}]} {
}

// -----

// expected-error @+1 {{parameter 'r': its blob holds 4 bytes, expected 8}}
module attributes {tmc.weight_layout = [{name = "r", offset = 0 : i64, type = tensor<2xf32>, value = dense_resource<short> : tensor<2xf32>}]} {
}

{-#
  dialect_resources: {
    builtin: {
      short: "0x040000000000803F"
    }
  }
#-}

// -----

// expected-error @+1 {{parameter 'a': inline value has 8 bytes, expected 16}}
module attributes {tmc.weight_layout = [{name = "a", offset = 0 : i64, type = tensor<4xf32>, value = dense<[1.0, 2.0]> : tensor<2xf32>}]} {
}

// -----

// expected-error @+1 {{parameter 'm': sub-byte inline values are not packed}}
module attributes {tmc.weight_layout = [{name = "m", offset = 0 : i64, type = tensor<8xi1>, value = dense<true> : tensor<8xi1>}]} {
}
