"""Errors raised by the tmc package."""

__all__ = ["TmcError", "UnsupportedOperationError"]


class TmcError(Exception):
    """A TMC tool or the runtime failed; the message is the tool's own.

    `stderr` holds everything the tool printed, when a tool failed."""

    def __init__(self, message, stderr=""):
        super().__init__(message)
        self.stderr = stderr


class UnsupportedOperationError(TmcError):
    """A PyTorch model uses an operation that tmc.from_torch cannot express
    in the tfm dialect; the message names the operation and the graph node."""
