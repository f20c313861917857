"""Finding and running TMC's tools and runtime library.

The tools (tmc-import, tmc-compile, ...) are looked up, in order, in the
directory named by the environment variable TMC_BIN_DIR, in the build tree
next to this package's source (build/bin, when the package is used from a
checkout), and on PATH. The runtime library libtmcrt.so is TMC_RUNTIME_LIB
when set, else the one in the tools' ../lib directory.
"""

import os
import shutil
import subprocess
import sys
import threading

from tmc.errors import TmcError

__all__ = ["bin_dir", "tool_path", "runtime_library", "run_tool"]


def _source_tree_bin():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "..", "build", "bin"))


def bin_dir():
    """The directory holding TMC's tools."""
    env = os.environ.get("TMC_BIN_DIR")
    if env:
        if not os.path.isfile(os.path.join(env, "tmc-compile")):
            raise TmcError("TMC_BIN_DIR=%s does not hold tmc-compile" % env)
        return os.path.abspath(env)
    for candidate in (_source_tree_bin(),):
        if os.path.isfile(os.path.join(candidate, "tmc-compile")):
            return candidate
    found = shutil.which("tmc-compile")
    if found:
        return os.path.dirname(os.path.abspath(found))
    raise TmcError("cannot find TMC's tools: set TMC_BIN_DIR to the directory "
                   "holding tmc-compile (e.g. build/bin), or put it on PATH")


def tool_path(name):
    """The path of tool `name` (e.g. "tmc-compile")."""
    path = os.path.join(bin_dir(), name)
    if not os.path.isfile(path):
        raise TmcError("%s is missing from %s" % (name, os.path.dirname(path)))
    return path


def runtime_library():
    """The path of libtmcrt.so, or None when it cannot be found (a compiled
    model directory holds a copy too)."""
    env = os.environ.get("TMC_RUNTIME_LIB")
    if env:
        if not os.path.isfile(env):
            raise TmcError("TMC_RUNTIME_LIB=%s: no such file" % env)
        return env
    try:
        lib = os.path.join(bin_dir(), "..", "lib", "libtmcrt.so")
    except TmcError:
        return None
    return os.path.normpath(lib) if os.path.isfile(lib) else None


def run_tool(name, args, progress=False):
    """Runs tool `name` with `args`; returns its stdout.

    `progress`: False (quiet), True (the tool's stderr is copied to ours as
    it comes, so progress lines appear while a step runs) or a callable
    that receives each complete line of the tool's stderr. Raises TmcError
    with the tool's message when it fails."""
    argv = [tool_path(name)] + [str(a) for a in args]
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as e:
        raise TmcError("cannot run %s: %s" % (argv[0], e))
    # stdout is drained by a thread so that neither pipe can fill up.
    out_chunks = []
    reader = threading.Thread(target=lambda: out_chunks.append(proc.stdout.read()))
    reader.start()
    err_chunks = []
    pending = b""
    fd = proc.stderr.fileno()
    while True:
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        err_chunks.append(chunk)
        if progress is True:
            sys.stderr.write(chunk.decode("utf-8", "replace"))
            sys.stderr.flush()
        elif callable(progress):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                progress(line.decode("utf-8", "replace"))
    if callable(progress) and pending:
        progress(pending.decode("utf-8", "replace"))
    reader.join()
    out = b"".join(out_chunks)
    proc.wait()
    proc.stdout.close()
    proc.stderr.close()
    err = b"".join(err_chunks).decode("utf-8", "replace")
    if proc.returncode != 0:
        lines = [l for l in err.splitlines() if l.strip()]
        errors = [l for l in lines if "error" in l.lower()]
        message = (errors or lines or ["exited with status %d" % proc.returncode])[0]
        if not message.startswith(name):
            message = "%s: %s" % (name, message)
        raise TmcError(message, stderr=err)
    return out.decode("utf-8", "replace")
