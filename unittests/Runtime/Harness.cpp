//===- Harness.cpp - A minimal unit-test harness ----------------*- C++ -*-===//
//
// This file implements the test registry, the failure reporting and the
// main function of the runtime unit tests. Arguments are substrings: only
// tests whose "Suite.Name" contains one of them run.
//
//===----------------------------------------------------------------------===//

#include "Harness.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <ftw.h>
#include <unistd.h>

using namespace tmc::test;

namespace {

struct TestCase {
  std::string name;
  TestFn fn;
};

std::vector<TestCase> &registry() {
  static std::vector<TestCase> tests;
  return tests;
}

int currentFailures = 0;

int removeEntry(const char *path, const struct stat *, int, struct FTW *) {
  return std::remove(path);
}

} // namespace

Registrar::Registrar(const char *suite, const char *name, TestFn fn) {
  registry().push_back({std::string(suite) + "." + name, fn});
}

void tmc::test::reportFailure(const char *file, int line,
                              const std::string &message) {
  ++currentFailures;
  std::fprintf(stderr, "%s:%d: failure: %s\n", file, line, message.c_str());
}

TempDir::TempDir() {
  const char *base = std::getenv("TMPDIR");
  std::string templ =
      std::string(base && *base ? base : "/tmp") + "/tmcrt-test-XXXXXX";
  std::vector<char> buffer(templ.begin(), templ.end());
  buffer.push_back('\0');
  if (!mkdtemp(buffer.data())) {
    std::perror("mkdtemp");
    std::exit(2);
  }
  dirPath = buffer.data();
}

TempDir::~TempDir() {
  nftw(dirPath.c_str(), removeEntry, 16, FTW_DEPTH | FTW_PHYS);
}

bool tmc::test::writeFile(const std::string &path, const void *data,
                          size_t size) {
  FILE *file = std::fopen(path.c_str(), "wb");
  if (!file)
    return false;
  bool ok = size == 0 || std::fwrite(data, 1, size, file) == size;
  return std::fclose(file) == 0 && ok;
}

int main(int argc, char **argv) {
  int failedTests = 0, ran = 0;
  for (const TestCase &test : registry()) {
    bool selected = argc < 2;
    for (int i = 1; i < argc; ++i)
      selected |= test.name.find(argv[i]) != std::string::npos;
    if (!selected)
      continue;
    ++ran;
    currentFailures = 0;
    auto start = std::chrono::steady_clock::now();
    std::printf("[ RUN  ] %s\n", test.name.c_str());
    std::fflush(stdout);
    test.fn();
    double ms = std::chrono::duration<double, std::milli>(
                    std::chrono::steady_clock::now() - start)
                    .count();
    std::printf("[ %s ] %s (%.0f ms)\n", currentFailures ? "FAIL" : " OK ",
                test.name.c_str(), ms);
    std::fflush(stdout);
    failedTests += currentFailures != 0;
  }
  std::printf("%d test%s run, %d failed\n", ran, ran == 1 ? "" : "s",
              failedTests);
  if (ran == 0) {
    std::fprintf(stderr, "no test matches the filter\n");
    return 1;
  }
  return failedTests ? 1 : 0;
}
