//===- Harness.h - A minimal unit-test harness ------------------*- C++ -*-===//
//
// This file declares the small test harness of the runtime unit tests: TEST
// registers a test, EXPECT_* record failures and go on, ASSERT_* record a
// failure and leave the test. It keeps the runtime's tests free of external
// dependencies, like the runtime itself.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_UNITTESTS_RUNTIME_HARNESS_H
#define TMC_UNITTESTS_RUNTIME_HARNESS_H

#include <sstream>
#include <string>

namespace tmc::test {

using TestFn = void (*)();

/// Adds a test to the global registry; used by TEST.
struct Registrar {
  Registrar(const char *suite, const char *name, TestFn fn);
};

/// Records a failed check of the running test.
void reportFailure(const char *file, int line, const std::string &message);

/// A directory under TMPDIR that is removed, with its contents, on
/// destruction.
class TempDir {
public:
  TempDir();
  ~TempDir();
  const std::string &path() const { return dirPath; }
  std::string file(const std::string &name) const {
    return dirPath + "/" + name;
  }

private:
  std::string dirPath;
};

/// Writes `size` bytes to `path`; returns false on failure.
bool writeFile(const std::string &path, const void *data, size_t size);

} // namespace tmc::test

#define TEST(Suite, Name)                                                      \
  static void Suite##_##Name();                                                \
  static ::tmc::test::Registrar Suite##_##Name##_registrar(#Suite, #Name,      \
                                                           Suite##_##Name);    \
  static void Suite##_##Name()

#define TMC_CHECK_IMPL(cond, text, onFail)                                     \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::ostringstream tmcCheckMessage;                                      \
      tmcCheckMessage << text;                                                 \
      ::tmc::test::reportFailure(__FILE__, __LINE__, tmcCheckMessage.str());   \
      onFail;                                                                  \
    }                                                                          \
  } while (false)

#define EXPECT_TRUE(cond) TMC_CHECK_IMPL(cond, "expected: " #cond, (void)0)
#define ASSERT_TRUE(cond) TMC_CHECK_IMPL(cond, "expected: " #cond, return )
#define EXPECT_EQ(a, b)                                                        \
  TMC_CHECK_IMPL((a) == (b), #a " == " #b " (" << (a) << " vs " << (b) << ")", \
                 (void)0)
#define ASSERT_EQ(a, b)                                                        \
  TMC_CHECK_IMPL((a) == (b), #a " == " #b " (" << (a) << " vs " << (b) << ")", \
                 return )
#define EXPECT_CONTAINS(haystack, needle)                                      \
  TMC_CHECK_IMPL(std::string(haystack).find(needle) != std::string::npos,      \
                 "expected '" << (haystack) << "' to contain '" << (needle)    \
                              << "'",                                          \
                 (void)0)

#endif // TMC_UNITTESTS_RUNTIME_HARNESS_H
