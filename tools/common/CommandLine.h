//===- CommandLine.h - Argument walking of the runtime tools ----*- C++ -*-===//
//
// This file defines the small command-line walker that tmc-run and
// tmc-generate share: they link only libtmcrt, so they parse their
// `--flag=VALUE` / `--flag VALUE` options without LLVM's cl library.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_TOOLS_COMMON_COMMANDLINE_H
#define TMC_TOOLS_COMMON_COMMANDLINE_H

#include <string>

namespace tmc::tools {

/// Walks argv one argument at a time. `usageError` reports a usage mistake
/// and must not return.
class CommandLine {
public:
  CommandLine(int argc, char **argv,
              void (*usageError)(const std::string &message))
      : argc(argc), argv(argv), usageError(usageError) {}

  /// Moves to the next argument; false after the last one.
  bool next() {
    if (++index >= argc)
      return false;
    current = argv[index];
    return true;
  }

  /// The current argument.
  const std::string &arg() const { return current; }

  /// Whether the current argument is `option` or `option=VALUE`.
  bool is(const std::string &option) const {
    return current == option || current.rfind(option + "=", 0) == 0;
  }

  /// The value of the current `option`: what follows `=`, or the next
  /// argument (consumed).
  std::string value(const std::string &option) {
    if (current.size() > option.size() && current[option.size()] == '=')
      return current.substr(option.size() + 1);
    if (index + 1 >= argc)
      usageError(option + " needs a value");
    return argv[++index];
  }

  /// Takes the current argument as the one model directory, or reports an
  /// unknown option or a second directory.
  void takeModelDirectory(std::string &dir) {
    if (!current.empty() && current[0] == '-')
      usageError("unknown option '" + current + "'");
    if (!dir.empty())
      usageError("more than one model directory ('" + dir + "' and '" +
                 current + "')");
    dir = current;
  }

private:
  int argc;
  char **argv;
  void (*usageError)(const std::string &message);
  int index = 0;
  std::string current;
};

} // namespace tmc::tools

#endif // TMC_TOOLS_COMMON_COMMANDLINE_H
