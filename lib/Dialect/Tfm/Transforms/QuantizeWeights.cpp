//===- QuantizeWeights.cpp - Pack quantized weights -------------*- C++ -*-===//
//
// This file implements the compile-time quantization of weights: scales
// and zero-points from the fp32 data, rounding, and bit packing.
//
//===----------------------------------------------------------------------===//

#include "tmc/Dialect/Tfm/Transforms/QuantizeWeights.h"

#include "tmc/Dialect/Tfm/Transforms/Passes.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace mlir;
using namespace mlir::tmc;
using namespace mlir::tfm;

uint16_t mlir::tmc::floatToHalfBits(float value) {
  uint32_t x;
  std::memcpy(&x, &value, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  int32_t exponent = static_cast<int32_t>((x >> 23) & 0xff) - 127 + 15;
  uint32_t mantissa = x & 0x7fffff;
  if (((x >> 23) & 0xff) == 0xff) // inf or nan
    return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  if (exponent >= 31)
    return sign | 0x7c00;
  if (exponent <= 0) {
    if (exponent < -10)
      return sign;
    mantissa |= 0x800000;
    int shift = 14 - exponent;
    uint32_t half = mantissa >> shift;
    uint32_t rest = mantissa & ((1u << shift) - 1);
    uint32_t midpoint = 1u << (shift - 1);
    if (rest > midpoint || (rest == midpoint && (half & 1)))
      ++half;
    return sign | half;
  }
  uint32_t half = (exponent << 10) | (mantissa >> 13);
  uint32_t rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1)))
    ++half; // may carry into the exponent, which is the right rounding
  return sign | half;
}

float mlir::tmc::halfBitsToFloat(uint16_t bits) {
  uint32_t sign = (bits & 0x8000u) << 16;
  uint32_t exponent = (bits >> 10) & 0x1f;
  uint32_t mantissa = bits & 0x3ff;
  uint32_t x;
  if (exponent == 0) {
    if (mantissa == 0) {
      x = sign;
    } else {
      float f = std::ldexp(static_cast<float>(mantissa), -24);
      std::memcpy(&x, &f, 4);
      x |= sign;
    }
  } else if (exponent == 31) {
    x = sign | 0x7f800000 | (mantissa << 13);
  } else {
    x = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

uint16_t mlir::tmc::floatToBFloat16Bits(float value) {
  uint32_t x;
  std::memcpy(&x, &value, 4);
  if ((x & 0x7fffffff) > 0x7f800000) // nan
    return static_cast<uint16_t>((x >> 16) | 0x40);
  x += 0x7fff + ((x >> 16) & 1);
  return static_cast<uint16_t>(x >> 16);
}

namespace {

/// Reads element (row, col) of the [n, k] weight.
struct WeightView {
  ArrayRef<float> data;
  int64_t n, k;
  bool transposed;
  float operator()(int64_t row, int64_t col) const {
    return transposed ? data[col * n + row] : data[row * k + col];
  }
};

template <typename T>
void append(std::vector<char> &out, T value) {
  const char *bytes = reinterpret_cast<const char *>(&value);
  out.insert(out.end(), bytes, bytes + sizeof(T));
}

/// Appends a scale in the scheme's scale type and returns the value the
/// kernels will read (rounded to fp16 when stored as fp16).
float appendScale(std::vector<char> *out, Type scaleType, float value) {
  if (scaleType.isF16()) {
    uint16_t bits = floatToHalfBits(value);
    if (out)
      append(*out, bits);
    return halfBitsToFloat(bits);
  }
  if (out)
    append(*out, value);
  return value;
}

float roundClamp(float x, float lo, float hi) {
  return std::min(hi, std::max(lo, std::nearbyint(x)));
}

} // namespace

std::vector<char> mlir::tmc::packQuantizedPart(QuantSchemeAttr quant,
                                               StringRef part,
                                               ArrayRef<float> source,
                                               int64_t n, int64_t k,
                                               bool transposed) {
  WeightView w{source, n, k, transposed};
  std::vector<char> out;
  bool values = part == "values", scales = part == "scales",
       zeros = part == "zeros";
  Type scaleType = quant.getScaleType();
  switch (quant.getKind()) {
  case QuantKind::int8:
  case QuantKind::w8a8: {
    for (int64_t r = 0; r < n; ++r) {
      float maxAbs = 0;
      for (int64_t c = 0; c < k; ++c)
        maxAbs = std::max(maxAbs, std::fabs(w(r, c)));
      float s = appendScale(scales ? &out : nullptr, scaleType,
                            maxAbs > 0 ? maxAbs / 127.0f : 1.0f);
      if (values)
        for (int64_t c = 0; c < k; ++c)
          out.push_back(static_cast<char>(
              static_cast<int8_t>(roundClamp(w(r, c) / s, -127, 127))));
    }
    break;
  }
  case QuantKind::int4: {
    int64_t g = quant.getGroupSize();
    bool symmetric = quant.getSymmetric();
    for (int64_t r = 0; r < n; ++r) {
      std::vector<uint8_t> nibbles(k);
      for (int64_t c0 = 0; c0 < k; c0 += g) {
        float lo = w(r, c0), hi = w(r, c0), maxAbs = 0;
        for (int64_t c = c0; c < c0 + g; ++c) {
          lo = std::min(lo, w(r, c));
          hi = std::max(hi, w(r, c));
          maxAbs = std::max(maxAbs, std::fabs(w(r, c)));
        }
        if (symmetric) {
          float s = appendScale(scales ? &out : nullptr, scaleType,
                                maxAbs > 0 ? maxAbs / 7.0f : 1.0f);
          for (int64_t c = c0; c < c0 + g; ++c)
            nibbles[c] = static_cast<uint8_t>(
                static_cast<int>(roundClamp(w(r, c) / s, -8, 7)) & 0xf);
        } else {
          float s = appendScale(scales ? &out : nullptr, scaleType,
                                hi > lo ? (hi - lo) / 15.0f : 1.0f);
          float z = appendScale(zeros ? &out : nullptr, scaleType,
                                roundClamp(-lo / s, 0, 15));
          for (int64_t c = c0; c < c0 + g; ++c)
            nibbles[c] =
                static_cast<uint8_t>(roundClamp(w(r, c) / s + z, 0, 15));
        }
      }
      if (values)
        for (int64_t c = 0; c < k; c += 2)
          out.push_back(static_cast<char>(nibbles[c] | (nibbles[c + 1] << 4)));
    }
    break;
  }
  case QuantKind::ternary: {
    double sum = 0;
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < k; ++c)
        sum += std::fabs(w(r, c));
    float mean = static_cast<float>(sum / double(n * k));
    float s = appendScale(scales ? &out : nullptr, scaleType,
                          mean > 0 ? mean : 1.0f);
    if (values)
      for (int64_t r = 0; r < n; ++r)
        for (int64_t c = 0; c < k; c += 4) {
          uint8_t byte = 0;
          for (int64_t i = 0; i < 4; ++i) {
            int q = static_cast<int>(roundClamp(w(r, c + i) / s, -1, 1));
            byte |= static_cast<uint8_t>((q == 1 ? 1 : q == -1 ? 2 : 0)
                                         << (2 * i));
          }
          out.push_back(static_cast<char>(byte));
        }
    break;
  }
  case QuantKind::binary: {
    for (int64_t r = 0; r < n; ++r) {
      double sum = 0;
      for (int64_t c = 0; c < k; ++c)
        sum += std::fabs(w(r, c));
      appendScale(scales ? &out : nullptr, scaleType,
                  static_cast<float>(sum / double(k)));
      if (values)
        for (int64_t c = 0; c < k; c += 8) {
          uint8_t byte = 0;
          for (int64_t i = 0; i < 8; ++i)
            byte |= static_cast<uint8_t>((w(r, c + i) >= 0 ? 1 : 0) << i);
          out.push_back(static_cast<char>(byte));
        }
    }
    break;
  }
  case QuantKind::fp16:
  case QuantKind::bf16:
    if (values)
      for (int64_t r = 0; r < n; ++r)
        for (int64_t c = 0; c < k; ++c)
          append(out, quant.getKind() == QuantKind::fp16
                          ? floatToHalfBits(w(r, c))
                          : floatToBFloat16Bits(w(r, c)));
    break;
  }
  return out;
}

std::vector<char> mlir::tmc::packPrunedPart(PruneSchemeAttr prune,
                                            StringRef part,
                                            ArrayRef<float> source, int64_t n,
                                            int64_t k, bool transposed,
                                            bool dense) {
  WeightView w{source, n, k, transposed};
  std::vector<char> out;
  bool values = part == "values";
  // Kept positions of a row, ascending: the `keep` largest magnitudes of
  // [begin, end), ties to the lower position.
  auto topPositions = [&](int64_t row, int64_t begin, int64_t end,
                          int64_t keep) {
    std::vector<int64_t> cols(end - begin);
    for (int64_t c = begin; c < end; ++c)
      cols[c - begin] = c;
    std::stable_sort(cols.begin(), cols.end(), [&](int64_t a, int64_t b) {
      return std::fabs(w(row, a)) > std::fabs(w(row, b));
    });
    cols.resize(keep);
    std::sort(cols.begin(), cols.end());
    return cols;
  };
  if (prune.getKind() == PruneKind::two_four) {
    for (int64_t r = 0; r < n; ++r) {
      uint8_t byte = 0;
      int64_t slot = 0;
      for (int64_t c0 = 0; c0 < k; c0 += 4) {
        for (int64_t c : topPositions(r, c0, c0 + 4, 2)) {
          if (values) {
            append(out, w(r, c));
          } else {
            byte |= static_cast<uint8_t>((c - c0) << (2 * (slot % 4)));
            if (slot % 4 == 3) {
              out.push_back(static_cast<char>(byte));
              byte = 0;
            }
          }
          ++slot;
        }
      }
    }
    return out;
  }
  int64_t keep = tfm::keptPerRow(prune, k);
  for (int64_t r = 0; r < n; ++r) {
    std::vector<int64_t> cols = topPositions(r, 0, k, keep);
    if (dense) {
      std::vector<float> row(k, 0.0f);
      for (int64_t c : cols)
        row[c] = w(r, c);
      for (float v : row)
        append(out, v);
      continue;
    }
    for (int64_t c : cols) {
      if (values)
        append(out, w(r, c));
      else
        append(out, static_cast<int16_t>(c));
    }
  }
  return out;
}

namespace {

/// Reads scale `index` of a packed scales (or zero-points) part.
float readScale(ArrayRef<char> bytes, Type scaleType, int64_t index) {
  if (scaleType.isF16()) {
    uint16_t bits;
    std::memcpy(&bits, bytes.data() + 2 * index, 2);
    return halfBitsToFloat(bits);
  }
  float value;
  std::memcpy(&value, bytes.data() + 4 * index, 4);
  return value;
}

} // namespace

std::vector<float> mlir::tmc::dequantizePacked(QuantSchemeAttr quant,
                                               ArrayRef<char> values,
                                               ArrayRef<char> scales,
                                               ArrayRef<char> zeros, int64_t n,
                                               int64_t k) {
  std::vector<float> out(n * k);
  Type scaleType = quant.getScaleType();
  auto byte = [&](int64_t i) { return static_cast<uint8_t>(values[i]); };
  switch (quant.getKind()) {
  case QuantKind::int8:
  case QuantKind::w8a8:
    for (int64_t r = 0; r < n; ++r) {
      float s = readScale(scales, scaleType, r);
      for (int64_t c = 0; c < k; ++c)
        out[r * k + c] =
            static_cast<float>(static_cast<int8_t>(byte(r * k + c))) * s;
    }
    break;
  case QuantKind::int4: {
    int64_t g = quant.getGroupSize(), groups = k / g;
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < k; ++c) {
        uint8_t b = byte(r * (k / 2) + c / 2);
        int nibble = (c % 2 == 0) ? (b & 0xf) : (b >> 4);
        float s = readScale(scales, scaleType, r * groups + c / g);
        if (quant.getSymmetric()) {
          int q = nibble >= 8 ? nibble - 16 : nibble;
          out[r * k + c] = static_cast<float>(q) * s;
        } else {
          float z = readScale(zeros, scaleType, r * groups + c / g);
          out[r * k + c] = (static_cast<float>(nibble) - z) * s;
        }
      }
    break;
  }
  case QuantKind::ternary: {
    float s = readScale(scales, scaleType, 0);
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < k; ++c) {
        int code = (byte(r * (k / 4) + c / 4) >> (2 * (c % 4))) & 3;
        out[r * k + c] = code == 1 ? s : code == 2 ? -s : 0.0f;
      }
    break;
  }
  case QuantKind::binary:
    for (int64_t r = 0; r < n; ++r) {
      float s = readScale(scales, scaleType, r);
      for (int64_t c = 0; c < k; ++c)
        out[r * k + c] = (byte(r * (k / 8) + c / 8) >> (c % 8)) & 1 ? s : -s;
    }
    break;
  case QuantKind::fp16:
  case QuantKind::bf16:
    for (int64_t i = 0; i < n * k; ++i) {
      uint16_t bits;
      std::memcpy(&bits, values.data() + 2 * i, 2);
      if (quant.getKind() == QuantKind::fp16) {
        out[i] = halfBitsToFloat(bits);
      } else {
        uint32_t x = static_cast<uint32_t>(bits) << 16;
        std::memcpy(&out[i], &x, 4);
      }
    }
    break;
  }
  return out;
}

std::vector<float> mlir::tmc::quantizeDequantize(QuantSchemeAttr quant,
                                                 ArrayRef<float> source,
                                                 int64_t n, int64_t k,
                                                 bool transposed) {
  std::vector<char> values =
      packQuantizedPart(quant, "values", source, n, k, transposed);
  std::vector<char> scales =
      packQuantizedPart(quant, "scales", source, n, k, transposed);
  std::vector<char> zeros =
      packQuantizedPart(quant, "zeros", source, n, k, transposed);
  return dequantizePacked(quant, values, scales, zeros, n, k);
}
