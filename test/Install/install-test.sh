#!/usr/bin/env bash
# Installs TMC into a fresh prefix with `cmake --install`, configures the
# out-of-tree project in consumer/ against it with find_package(TMC), builds
# it and runs it on examples/gpt2.mlir; also runs an installed tool.
#
#   install-test.sh BUILD_DIR WORK_DIR CXX_COMPILER [LAUNCHER] [LINKER_FLAGS]
#
# WORK_DIR/prefix and WORK_DIR/consumer-build are recreated on every run (a
# fixed place, so that ccache recognizes the consumer's compilation).
set -euo pipefail

BUILD="$1"
WORK="$2"
CXX="$3"
LAUNCHER="${4:-}"
LINKER_FLAGS="${5:-}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PREFIX="$WORK/prefix"
CONSUMER_BUILD="$WORK/consumer-build"

fail() { echo "install-test: FAIL: $*" >&2; exit 1; }

rm -rf "$PREFIX" "$CONSUMER_BUILD"
mkdir -p "$WORK"
cmake --install "$BUILD" --prefix "$PREFIX" >"$WORK/install.log" \
  || { cat "$WORK/install.log"; fail "cmake --install"; }
for f in lib/cmake/tmc/TMCConfig.cmake lib/cmake/tmc/TMCTargets.cmake \
         include/tmc/InitAll.h include/tmc-c/TMC.h include/tmc-rt/Runtime.h \
         include/tmc/Dialect/Tfm/IR/TfmOps.h.inc lib/libtmcrt.so \
         lib/libTMC-C.so lib/libTMCDialectPlugin.so lib/libTMCPassPlugin.so \
         bin/tmc-opt bin/tmc-compile; do
  [ -e "$PREFIX/$f" ] || fail "the installed package lacks $f"
done
echo "installed into $PREFIX"

export CCACHE_BASEDIR="$WORK"
cmake -G Ninja -S "$HERE/consumer" -B "$CONSUMER_BUILD" \
  -DCMAKE_BUILD_TYPE=Release \
  -DTMC_DIR="$PREFIX/lib/cmake/tmc" \
  -DCMAKE_CXX_COMPILER="$CXX" \
  ${LAUNCHER:+-DCMAKE_CXX_COMPILER_LAUNCHER="$LAUNCHER"} \
  ${LINKER_FLAGS:+-DCMAKE_EXE_LINKER_FLAGS="$LINKER_FLAGS"} \
  >"$WORK/configure.log" 2>&1 \
  || { cat "$WORK/configure.log"; fail "configuring the consumer"; }
ninja -C "$CONSUMER_BUILD" >"$WORK/build.log" 2>&1 \
  || { cat "$WORK/build.log"; fail "building the consumer"; }
echo "built $CONSUMER_BUILD/tmc-consumer"

OUT="$("$CONSUMER_BUILD/tmc-consumer" "$ROOT/examples/gpt2.mlir")" \
  || fail "tmc-consumer exited with an error"
echo "$OUT"
grep -q '^forward: (tensor<1x16xi64>) -> tensor<1x16x128xf32>$' <<<"$OUT" \
  || fail "tfm-set-seq-len did not give the expected function type"
grep -q '^input input_ids i64 2 1 16$' <<<"$OUT" \
  || fail "the CPU pipeline's signature lacks the input"
grep -q '^output logits f32 3 1 16 128$' <<<"$OUT" \
  || fail "the CPU pipeline's signature lacks the output"

# An installed tool runs from the prefix (its RUNPATH finds MLIR and LLVM).
OPT_OUT="$("$PREFIX/bin/tmc-opt" --tfm-set-seq-len=seq-len=8 \
  "$ROOT/examples/gpt2.mlir")" || fail "the installed tmc-opt exited with an error"
grep -q 'tensor<1x8x128xf32>' <<<"$OPT_OUT" || fail "the installed tmc-opt's output"
echo "install-test: PASS"
