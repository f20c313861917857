module {
  func.func @forward(%arg0: tensor<1x?xi64> {tfm.name = "input_ids"}) -> (tensor<1x?x128xf32> {tfm.name = "logits"}) attributes {tfm.max_positions = 64 : i64, tfm.model_type = "gpt2"} {
    %wte.weight = tfm.param "wte.weight" {value = dense_resource<wte.weight> : tensor<128x64xf32>} : tensor<128x64xf32>
    %wpe.weight = tfm.param "wpe.weight" {value = dense_resource<wpe.weight> : tensor<64x64xf32>} : tensor<64x64xf32>
    %0 = tfm.embedding %wte.weight[%arg0] : tensor<128x64xf32>, tensor<1x?xi64>
    %1 = tfm.positions like %arg0 : tensor<1x?xi64>
    %2 = tfm.embedding %wpe.weight[%1] : tensor<64x64xf32>, tensor<1x?xi64>
    %3 = tfm.add %0, %2 : tensor<1x?x64xf32>
    %4 = tfm.l