func.func @f(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %o = tfm.attention %x, %x, %x {num_heads = 2, num_kv_heads = 2, sparsity = #tfm.sliding<size = 2>} : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return %o : tensor<1x4x8xf32>
}
