# -*- Python -*-
"""lit configuration of TMC's regression tests."""

import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "TMC"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.tmc_obj_root, "test")
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%tmc_src_root", config.tmc_src_root))
config.substitutions.append(("%tmc_obj_root", config.tmc_obj_root))
config.substitutions.append(("%examples", os.path.join(config.tmc_src_root, "examples")))
config.substitutions.append(("%python", config.python_executable))
# The mlir-opt plugins (test/Plugins).
config.substitutions.append(("%tmc_dialect_plugin",
                             os.path.join(config.tmc_lib_dir, "libTMCDialectPlugin.so")))
config.substitutions.append(("%tmc_pass_plugin",
                             os.path.join(config.tmc_lib_dir, "libTMCPassPlugin.so")))

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [config.tmc_tools_dir, config.llvm_tools_dir]
tools = ["tmc-opt", "tmc-import", "tmc-report", "tmc-compile", "tmc-run",
         "tmc-generate", "mlir-opt"]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# GPU tests that compile to PTX and cubin need the CUDA toolkit's ptxas
# (there is no GPU in the regular suite: nothing is run on one).
cuda_home = os.environ.get("CUDA_HOME") or os.environ.get("CUDA_ROOT") or "/usr/local/cuda"
ptxas = os.path.join(cuda_home, "bin", "ptxas")
if os.path.exists(ptxas):
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))

# The fake CUDA driver (unittests/Runtime/FakeCudaDriver.cpp) for testing the
# host side of CUDA models without a GPU.
fake_cuda = os.path.join(config.tmc_lib_dir, "fake-cuda")
if os.path.exists(os.path.join(fake_cuda, "libcuda.so.1")):
    config.available_features.add("fake-cuda")
    config.substitutions.append(("%fake_cuda", fake_cuda))
config.substitutions.append(("%llvm_tools_dir", config.llvm_tools_dir))
