"""The tool's own failures (pip anatomy: message + hint) and the documented exit codes."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Exit codes, documented in the README."""

    OK = 0  # explain: no known cause; other commands: success
    FIX = 1  # explain: a known cause to fix on the user's side
    USAGE = 2  # bad usage (also click's own code)
    RETRY = 3  # explain: a known transient or service-side cause; retry later
    INPUT = 4  # input missing or unreadable
    KB_INVALID = 5  # a signature or incident file is invalid
    NETWORK = 6  # a network command could not complete
    INTERRUPTED = 130
    INTERNAL = 70


class PsgdiagError(Exception):
    """A failure the user can act on: one sentence plus a hint."""

    code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, hint: str = "", code: ExitCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code is not None:
            self.code = code


class InputError(PsgdiagError):
    """The input could not be read."""

    code = ExitCode.INPUT


class UsageError(PsgdiagError):
    """An option or argument is wrong."""

    code = ExitCode.USAGE


class KbError(PsgdiagError):
    """The knowledge base is invalid; carries every problem found, each with file and key."""

    code = ExitCode.KB_INVALID

    def __init__(self, problems: list[str]) -> None:
        first = problems[0] if problems else "unknown problem"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(
            f"invalid knowledge base: {first}{more}",
            hint="fix the files named above; `psgdiag signatures check` lists every problem",
        )
        self.problems = problems


class NetworkError(PsgdiagError):
    """A network operation failed."""

    code = ExitCode.NETWORK
