"""TMC, the Transformer Memory Compiler, from Python.

    import numpy as np
    import tmc

    path = tmc.import_checkpoint("ckpt/")          # or tmc.ModelBuilder(...),
    out = tmc.compile(path, "out/", seq_len=16)    # or tmc.from_torch(module, ids)
    logits = out.load().run(input_ids=np.zeros((1, 16), np.int64))["logits"]

Pure Python: TMC's tools (tmc-import, tmc-compile) do the compiling and
libtmcrt runs the compiled models (through ctypes). The tools are found
through the environment variable TMC_BIN_DIR, the source tree's build/bin,
or PATH. docs/Python.md is the guide.
"""

from tmc.builder import ModelBuilder, Param, Value
from tmc.compiler import CompiledModel, compile
from tmc.errors import TmcError, UnsupportedOperationError
from tmc.importer import from_torch, import_checkpoint
from tmc.runtime import Model, TensorInfo

__version__ = "0.1.0"

__all__ = [
    "CompiledModel", "Model", "ModelBuilder", "Param", "TensorInfo", "TmcError",
    "UnsupportedOperationError", "Value", "compile", "from_torch",
    "import_checkpoint",
]
