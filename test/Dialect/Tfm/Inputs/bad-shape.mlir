func.func @f(%x: tensor<1x4x8xf32>, %w: tensor<16x9xf32>) -> tensor<1x4x16xf32> {
  %y = tfm.linear %x, %w : tensor<1x4x8xf32>, tensor<16x9xf32>
  return %y : tensor<1x4x16xf32>
}
