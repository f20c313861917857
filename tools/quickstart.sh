#!/usr/bin/env bash
# TMC quick start: set up, build and either run the bundled example or the
# whole test suite. Each command installs what is missing (Debian packages,
# Python packages), configures once and builds incrementally into build/.
#
#   tools/quickstart.sh run    compile and run the bundled example model
#   tools/quickstart.sh test   run every test suite; non-zero on any failure
#   tools/quickstart.sh build  only set up and build
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${TMC_BUILD_DIR:-$ROOT/build}"
LLVM_PREFIX=/usr/lib/llvm-22
APT_PACKAGES=(libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools clang-22
              libclang-rt-22-dev lld-22 ninja-build ccache cmake libeigen3-dev
              python3-torch)
# Python used by the tests and tools: the interpreter on PATH, with numpy.
PYTHON="${TMC_PYTHON:-python3}"
PIP_PACKAGES=(numpy pytest)

log() { printf '\033[1m[tmc]\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_system_packages() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

install_python_packages() {
  local missing=()
  for p in "${PIP_PACKAGES[@]}"; do
    "$PYTHON" -c "import $p" 2>/dev/null || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Python packages for $PYTHON: ${missing[*]}"
    "$PYTHON" -m pip install -q "${missing[@]}"
  fi
}

configure() {
  if [ ! -f "$BUILD/build.ninja" ]; then
    log "configuring $BUILD"
    cmake -G Ninja -S "$ROOT" -B "$BUILD" \
      -DCMAKE_BUILD_TYPE=Release \
      -DMLIR_DIR="$LLVM_PREFIX/lib/cmake/mlir" \
      -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
      -DLLVM_USE_LINKER=lld \
      -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
      -DPython3_EXECUTABLE="$(command -v "$PYTHON")" >/dev/null
  fi
}

build() {
  install_system_packages
  install_python_packages
  configure
  log "building"
  export CCACHE_BASEDIR="$ROOT"
  ninja -C "$BUILD" >/dev/null || ninja -C "$BUILD"
}

cmd_run() {
  build
  "$ROOT/tools/run-example.sh" "$BUILD"
}

cmd_test() {
  build
  log "running the test suite"
  ctest --test-dir "$BUILD" --output-on-failure
}

case "${1:-}" in
  run) cmd_run ;;
  test) cmd_test ;;
  build) build ;;
  *)
    echo "usage: $0 run|test|build" >&2
    exit 2 ;;
esac
