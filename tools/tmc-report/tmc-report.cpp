//===- tmc-report.cpp - Draw a compiled model's memory plan -----*- C++ -*-===//
//
// This file implements tmc-report: it reads the report.json of a compiled
// model and draws its buffer plan as an SVG picture of the arena over
// program points, each buffer a labelled rectangle, with the live-bytes
// curve and the lower bound.
//
//===----------------------------------------------------------------------===//

#include "llvm/ADT/Hashing.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace cl = llvm::cl;

static cl::opt<std::string> inputFile(cl::Positional, cl::Required,
                                      cl::desc("<report.json>"));
static cl::opt<std::string> outputFile("o", cl::desc("Output picture (.svg)"),
                                       cl::value_desc("plan.svg"),
                                       cl::init(""));
static cl::opt<unsigned> width("width", cl::desc("Picture width in pixels"),
                               cl::init(1200));
static cl::opt<unsigned> height("height", cl::desc("Plot height in pixels"),
                                cl::init(600));

namespace {

struct Buffer {
  std::string name;
  int64_t size, offset, first, last;
};

/// Escapes text for SVG.
std::string escape(llvm::StringRef text) {
  std::string out;
  for (char c : text) {
    switch (c) {
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '&': out += "&amp;"; break;
    case '"': out += "&quot;"; break;
    default: out += c;
    }
  }
  return out;
}

std::string mib(int64_t bytes) {
  std::string s;
  llvm::raw_string_ostream(s) << llvm::format("%.3f MiB", bytes / 1048576.0);
  return s;
}

} // namespace

static int fail(const llvm::Twine &message) {
  llvm::errs() << "tmc-report: " << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(
      argc, argv,
      "tmc-report: summarize a compiled model's memory report and draw its "
      "buffer plan.\n\n"
      "  tmc-report out/report.json -o plan.svg\n\n"
      "The picture shows the arena (vertical, bytes) over program points\n"
      "(horizontal): each buffer is a rectangle from its first to its last\n"
      "use at its offset; the black curve is the bytes live at each point,\n"
      "whose maximum is the lower bound no plan can beat.\n");

  auto buffer = llvm::MemoryBuffer::getFile(inputFile);
  if (!buffer)
    return fail(inputFile + ": " + buffer.getError().message());
  llvm::Expected<llvm::json::Value> json =
      llvm::json::parse((*buffer)->getBuffer());
  if (!json)
    return fail(inputFile + ": " + llvm::toString(json.takeError()));
  const llvm::json::Object *root = json->getAsObject();
  if (!root)
    return fail(inputFile + ": not a JSON object");
  auto getInt = [&](const llvm::json::Object &o, llvm::StringRef key,
                    int64_t &out) {
    std::optional<int64_t> v = o.getInteger(key);
    if (!v)
      return false;
    out = *v;
    return true;
  };
  int64_t arena = 0, bound = 0, weightsBefore = 0, weightsAfter = 0;
  if (!getInt(*root, "arena_bytes", arena) ||
      !getInt(*root, "lower_bound_bytes", bound))
    return fail(inputFile + ": missing arena_bytes or lower_bound_bytes");
  getInt(*root, "weights_bytes_before", weightsBefore);
  getInt(*root, "weights_bytes_after", weightsAfter);
  const llvm::json::Array *list = root->getArray("buffers");
  if (!list)
    return fail(inputFile + ": missing buffers");
  std::vector<Buffer> buffers;
  int64_t points = 1, total = 0;
  for (const llvm::json::Value &v : *list) {
    const llvm::json::Object *o = v.getAsObject();
    Buffer b;
    if (!o || !getInt(*o, "size", b.size) || !getInt(*o, "offset", b.offset) ||
        !getInt(*o, "first_use", b.first) || !getInt(*o, "last_use", b.last))
      return fail(inputFile + ": a buffer lacks size, offset, first_use or "
                              "last_use");
    if (std::optional<llvm::StringRef> name = o->getString("name"))
      b.name = name->str();
    points = std::max(points, b.last + 1);
    total += b.size;
    buffers.push_back(b);
  }

  llvm::outs() << "buffers:            " << buffers.size() << " ("
               << mib(total) << " in all)\n"
               << "arena:              " << mib(arena) << "\n"
               << "lower bound:        " << mib(bound) << "\n";
  if (bound)
    llvm::outs() << llvm::format("arena / bound:      %.4f\n",
                                 double(arena) / bound);
  if (total)
    llvm::outs() << llvm::format("arena / all buffers: %.4f\n",
                                 double(arena) / total);
  llvm::outs() << "weights:            " << mib(weightsBefore) << " -> "
               << mib(weightsAfter) << "\n";
  // A decoding build's KV cache (docs/Decoding.md), beside the arena.
  if (const llvm::json::Object *cache = root->getObject("kv_cache")) {
    int64_t bytes = 0, perToken = 0, maxTokens = 0, window = 0;
    getInt(*cache, "bytes", bytes);
    getInt(*cache, "bytes_per_token", perToken);
    getInt(*cache, "max_tokens", maxTokens);
    getInt(*cache, "window", window);
    llvm::outs() << "kv cache:           " << mib(bytes) << " ("
                 << cache->getString("type").value_or("?") << ", " << perToken
                 << " bytes per token, ";
    if (window)
      llvm::outs() << "window of " << window << ")\n";
    else
      llvm::outs() << maxTokens << " tokens)\n";
  }
  if (outputFile.empty())
    return 0;
  if (!llvm::StringRef(outputFile).ends_with(".svg"))
    return fail("only .svg pictures are written, not '" + outputFile + "'");

  // Live bytes at each point.
  std::vector<int64_t> live(points + 1, 0);
  for (const Buffer &b : buffers) {
    live[b.first] += b.size;
    live[b.last + 1] -= b.size;
  }
  for (int64_t p = 1; p <= points; ++p)
    live[p] += live[p - 1];

  const double left = 90, top = 50, plotW = width, plotH = height;
  const double scaleX = plotW / double(points);
  const double scaleY = plotH / double(std::max<int64_t>(arena, 1));
  std::error_code ec;
  llvm::raw_fd_ostream os(outputFile, ec);
  if (ec)
    return fail(outputFile + ": " + ec.message());
  os << llvm::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
                     "height=\"%.0f\" font-family=\"sans-serif\" "
                     "font-size=\"11\">\n",
                     left + plotW + 20, top + plotH + 60);
  os << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  os << llvm::format("<text x=\"%.0f\" y=\"20\" font-size=\"14\">", left)
     << escape(inputFile) << ": arena " << mib(arena) << ", lower bound "
     << mib(bound) << ", " << buffers.size() << " buffers (" << mib(total)
     << ")</text>\n";
  os << llvm::format("<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" "
                     "height=\"%.0f\" fill=\"#f4f4f4\" stroke=\"#888\"/>\n",
                     left, top, plotW, plotH);
  for (const Buffer &b : buffers) {
    double x = left + b.first * scaleX;
    double w = std::max(1.0, (b.last - b.first + 1) * scaleX);
    double y = top + plotH - (b.offset + b.size) * scaleY;
    double h = std::max(0.5, b.size * scaleY);
    unsigned hue = static_cast<unsigned>(llvm::hash_value(b.name) % 360);
    os << llvm::format("<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
                       "height=\"%.2f\" fill=\"hsl(%u,60%%,70%%)\" "
                       "stroke=\"#333\" stroke-width=\"0.3\">",
                       x, y, w, h, hue)
       << "<title>" << escape(b.name) << ": " << b.size << " B at "
       << b.offset << ", live [" << b.first << ", " << b.last
       << "]</title></rect>\n";
    if (w > 60 && h > 12)
      os << llvm::format("<text x=\"%.2f\" y=\"%.2f\" font-size=\"9\">",
                         x + 2, y + 10)
         << escape(b.name) << "</text>\n";
  }
  // The live-bytes curve and the lower bound.
  os << "<polyline fill=\"none\" stroke=\"black\" stroke-width=\"1\" points=\"";
  for (int64_t p = 0; p < points; ++p)
    os << llvm::format("%.2f,%.2f %.2f,%.2f ", left + p * scaleX,
                       top + plotH - live[p] * scaleY, left + (p + 1) * scaleX,
                       top + plotH - live[p] * scaleY);
  os << "\"/>\n";
  double boundY = top + plotH - bound * scaleY;
  os << llvm::format("<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.2f\" y2=\"%.2f\" "
                     "stroke=\"red\" stroke-dasharray=\"4 3\"/>\n",
                     left, left + plotW, boundY, boundY);
  os << llvm::format("<text x=\"%.0f\" y=\"%.2f\" fill=\"red\">lower bound "
                     "</text>\n",
                     left + plotW - 80, boundY - 3);
  // Axes.
  for (int i = 0; i <= 4; ++i) {
    double bytes = arena * i / 4.0;
    double y = top + plotH - bytes * scaleY;
    os << llvm::format("<text x=\"5\" y=\"%.2f\">%.2f MiB</text>\n", y + 4,
                       bytes / 1048576.0);
  }
  os << llvm::format("<text x=\"%.0f\" y=\"%.0f\">program point 0</text>\n",
                     left, top + plotH + 18);
  os << llvm::format("<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%lld"
                     "</text>\n",
                     left + plotW, top + plotH + 18, (long long)points - 1);
  os << llvm::format("<text x=\"%.0f\" y=\"%.0f\">rectangles: buffers "
                     "(offset up, live range across); black: bytes live; "
                     "red: lower bound</text>\n",
                     left, top + plotH + 40);
  os << "</svg>\n";
  llvm::outs() << "wrote " << outputFile << "\n";
  return 0;
}
