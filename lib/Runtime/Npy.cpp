//===- Npy.cpp - NumPy .npy reader and writer -------------------*- C++ -*-===//
//
// This file implements the .npy reader and writer declared in tmc-rt/Npy.h.
// The header is a Python dict literal; the parser accepts exactly the three
// keys NumPy writes ('descr', 'fortran_order', 'shape') and refuses anything
// it cannot represent (Fortran order, big-endian or other element types).
//
//===----------------------------------------------------------------------===//

#include "tmc-rt/Npy.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace tmc::rt;

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicBytes = 6;
/// Headers longer than this are refused as corrupt.
constexpr uint32_t kMaxHeaderBytes = 1 << 20;

const struct {
  NpyType type;
  const char *descr;
  size_t size;
} kTypes[] = {
    {NpyType::F32, "<f4", 4}, {NpyType::F16, "<f2", 2},
    {NpyType::I64, "<i8", 8}, {NpyType::I32, "<i4", 4},
    {NpyType::I8, "|i1", 1},  {NpyType::U8, "|u1", 1},
    {NpyType::U16, "<u2", 2}, {NpyType::Bool, "|b1", 1},
};

/// Recursive-descent parser for the header dict.
class HeaderParser {
public:
  explicit HeaderParser(const std::string &text) : text(text) {}

  /// Parses the dict; on failure returns false with `why` set.
  bool parse(std::string &descr, bool &fortranOrder,
             std::vector<int64_t> &shape, std::string &why) {
    bool haveDescr = false, haveOrder = false, haveShape = false;
    if (!consume('{'))
      return fail(why, "header is not a dict");
    while (true) {
      if (consume('}'))
        break;
      std::string key;
      if (!parseString(key) || !consume(':'))
        return fail(why, "malformed header dict");
      if (key == "descr") {
        if (!parseString(descr))
          return fail(why, "unsupported dtype (not a simple type string)");
        haveDescr = true;
      } else if (key == "fortran_order") {
        if (!parseBool(fortranOrder))
          return fail(why, "malformed 'fortran_order'");
        haveOrder = true;
      } else if (key == "shape") {
        if (!parseShape(shape))
          return fail(why, "malformed 'shape'");
        haveShape = true;
      } else {
        return fail(why, "unexpected header key '" + key + "'");
      }
      if (!consume(',')) {
        if (!consume('}'))
          return fail(why, "malformed header dict");
        break;
      }
    }
    skipSpace();
    if (pos != text.size())
      return fail(why, "trailing characters after the header dict");
    if (!haveDescr || !haveOrder || !haveShape)
      return fail(why, "header lacks 'descr', 'fortran_order' or 'shape'");
    return true;
  }

private:
  static bool fail(std::string &why, const std::string &message) {
    why = message;
    return false;
  }

  void skipSpace() {
    while (pos < text.size() &&
           (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n'))
      ++pos;
  }

  bool consume(char c) {
    skipSpace();
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }

  bool consumeWord(const char *word) {
    skipSpace();
    size_t n = std::strlen(word);
    if (text.compare(pos, n, word) == 0) {
      pos += n;
      return true;
    }
    return false;
  }

  bool parseString(std::string &out) {
    skipSpace();
    if (pos >= text.size() || (text[pos] != '\'' && text[pos] != '"'))
      return false;
    char quote = text[pos++];
    size_t end = text.find(quote, pos);
    if (end == std::string::npos)
      return false;
    out = text.substr(pos, end - pos);
    pos = end + 1;
    return true;
  }

  bool parseBool(bool &out) {
    if (consumeWord("True"))
      return out = true, true;
    if (consumeWord("False"))
      return out = false, true;
    return false;
  }

  bool parseShape(std::vector<int64_t> &shape) {
    shape.clear();
    if (!consume('('))
      return false;
    while (true) {
      if (consume(')'))
        return true;
      skipSpace();
      size_t start = pos;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9')
        ++pos;
      if (pos == start || pos - start > 18)
        return false;
      shape.push_back(std::strtoll(text.c_str() + start, nullptr, 10));
      if (!consume(','))
        return consume(')');
    }
  }

  const std::string &text;
  size_t pos = 0;
};

/// Element count of `shape`, or -1 when it overflows or has negative extents.
int64_t countElements(const std::vector<int64_t> &shape, size_t elementSize) {
  const int64_t limit = (int64_t(1) << 62) / int64_t(elementSize);
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0)
      return -1;
    if (dim != 0 && count > limit / dim)
      return -1;
    count *= dim;
  }
  return count;
}

std::string describeErrno() { return std::strerror(errno); }

} // namespace

const char *tmc::rt::getNpyDescr(NpyType type) {
  for (const auto &entry : kTypes)
    if (entry.type == type)
      return entry.descr;
  return "?";
}

size_t tmc::rt::getNpyTypeSize(NpyType type) {
  for (const auto &entry : kTypes)
    if (entry.type == type)
      return entry.size;
  return 0;
}

std::string tmc::rt::formatShape(const std::vector<int64_t> &shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

void NpyArray::FreeDeleter::operator()(void *p) const { std::free(p); }

bool NpyArray::allocate(NpyType newType, const std::vector<int64_t> &newShape) {
  size_t elementSize = getNpyTypeSize(newType);
  int64_t count = countElements(newShape, elementSize);
  if (count < 0)
    return false;
  size_t bytes = size_t(count) * elementSize;
  // Round up, and never ask for zero bytes, so every array has a buffer.
  size_t allocBytes = (bytes + 63) / 64 * 64 + 64;
  void *data = std::aligned_alloc(64, allocBytes);
  if (!data)
    return false;
  std::memset(data, 0, allocBytes);
  buffer.reset(data);
  type = newType;
  shape = newShape;
  numElements = count;
  numBytes = bytes;
  return true;
}

bool tmc::rt::readNpy(const std::string &path, NpyArray &array,
                      std::string &error) {
  auto fail = [&](const std::string &why) {
    error = path + ": " + why;
    return false;
  };
  FILE *file = std::fopen(path.c_str(), "rb");
  if (!file)
    return fail(describeErrno());
  struct Closer {
    FILE *f;
    ~Closer() { std::fclose(f); }
  } closer{file};

  unsigned char prefix[kMagicBytes + 2];
  if (std::fread(prefix, 1, sizeof(prefix), file) != sizeof(prefix) ||
      std::memcmp(prefix, kMagic, kMagicBytes) != 0)
    return fail("not a .npy file (bad magic)");
  unsigned major = prefix[kMagicBytes];
  uint32_t headerBytes = 0;
  if (major == 1) {
    unsigned char len[2];
    if (std::fread(len, 1, 2, file) != 2)
      return fail("truncated .npy header");
    headerBytes = uint32_t(len[0]) | uint32_t(len[1]) << 8;
  } else if (major == 2 || major == 3) {
    unsigned char len[4];
    if (std::fread(len, 1, 4, file) != 4)
      return fail("truncated .npy header");
    headerBytes = uint32_t(len[0]) | uint32_t(len[1]) << 8 |
                  uint32_t(len[2]) << 16 | uint32_t(len[3]) << 24;
  } else {
    return fail("unsupported .npy format version " + std::to_string(major));
  }
  if (headerBytes > kMaxHeaderBytes)
    return fail("corrupt .npy header (length " + std::to_string(headerBytes) +
                ")");
  std::string header(headerBytes, '\0');
  if (std::fread(&header[0], 1, headerBytes, file) != headerBytes)
    return fail("truncated .npy header");

  std::string descr, why;
  bool fortranOrder = false;
  std::vector<int64_t> shape;
  if (!HeaderParser(header).parse(descr, fortranOrder, shape, why))
    return fail(why);
  if (fortranOrder)
    return fail("Fortran-order arrays are not supported (save a C-order "
                "array, e.g. np.ascontiguousarray)");
  if (!descr.empty() && descr[0] == '>')
    return fail("big-endian dtype '" + descr + "' is not supported");
  const auto *entry = std::begin(kTypes);
  for (; entry != std::end(kTypes); ++entry)
    if (descr == entry->descr ||
        (entry->size == 1 && descr.size() == 3 && descr[0] == '<' &&
         descr.compare(1, 2, entry->descr + 1) == 0))
      break;
  if (entry == std::end(kTypes))
    return fail("unsupported dtype '" + descr +
                "' (supported: <f4 <f2 <i8 <i4 |i1 |u1 <u2 |b1)");

  if (countElements(shape, entry->size) < 0)
    return fail("shape " + formatShape(shape) + " is too large");
  if (!array.allocate(entry->type, shape))
    return fail("out of memory for shape " + formatShape(shape));
  size_t expected = array.getNumBytes();
  size_t got = std::fread(array.getData(), 1, expected, file);
  if (got != expected)
    return fail("truncated data: shape " + formatShape(shape) + " of " + descr +
                " needs " + std::to_string(expected) + " bytes, got " +
                std::to_string(got));
  if (std::fgetc(file) != EOF)
    return fail("unexpected bytes after the array data");
  return true;
}

bool tmc::rt::writeNpy(const std::string &path, NpyType type,
                       const std::vector<int64_t> &shape, const void *data,
                       std::string &error) {
  auto fail = [&](const std::string &why) {
    error = path + ": " + why;
    return false;
  };
  size_t elementSize = getNpyTypeSize(type);
  int64_t count = countElements(shape, elementSize);
  if (elementSize == 0 || count < 0)
    return fail("invalid shape " + formatShape(shape));
  size_t dataBytes = size_t(count) * elementSize;

  std::string dict = "{'descr': '";
  dict += getNpyDescr(type);
  dict += "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i) {
    dict += std::to_string(shape[i]);
    dict += shape.size() == 1 || i + 1 < shape.size() ? "," : "";
    if (i + 1 < shape.size())
      dict += " ";
  }
  dict += "), }";

  // Pad with spaces so that the data starts at a multiple of 64 bytes; the
  // header ends with a newline.
  size_t prefixBytes = kMagicBytes + 2 + 2;
  unsigned major = 1;
  if (dict.size() + 1 + 64 > 65535) {
    major = 2;
    prefixBytes += 2;
  }
  size_t total = (prefixBytes + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - prefixBytes - dict.size() - 1, ' ');
  dict += '\n';

  std::string prefix(kMagic, kMagicBytes);
  prefix += char(major);
  prefix += char(0);
  uint32_t len = uint32_t(dict.size());
  prefix += char(len & 0xff);
  prefix += char((len >> 8) & 0xff);
  if (major == 2) {
    prefix += char((len >> 16) & 0xff);
    prefix += char((len >> 24) & 0xff);
  }

  std::string tempPath = path + ".tmp";
  FILE *file = std::fopen(tempPath.c_str(), "wb");
  if (!file)
    return fail(describeErrno());
  bool ok =
      std::fwrite(prefix.data(), 1, prefix.size(), file) == prefix.size() &&
      std::fwrite(dict.data(), 1, dict.size(), file) == dict.size() &&
      (dataBytes == 0 || std::fwrite(data, 1, dataBytes, file) == dataBytes);
  std::string why = ok ? "" : describeErrno();
  if (std::fclose(file) != 0 && ok) {
    ok = false;
    why = describeErrno();
  }
  if (ok && std::rename(tempPath.c_str(), path.c_str()) != 0) {
    ok = false;
    why = describeErrno();
  }
  if (!ok) {
    std::remove(tempPath.c_str());
    return fail("cannot write: " + why);
  }
  return true;
}
