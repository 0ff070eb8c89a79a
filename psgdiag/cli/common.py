"""Shared CLI plumbing: error handling, stream set-up, options used by several commands."""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer

from psgdiag.errors import ExitCode, PsgdiagError

P = ParamSpec("P")
R = TypeVar("R")


def is_debug() -> bool:
    """Return True when --debug was given (the root callback sets PSGDIAG_DEBUG) or set."""
    return bool(os.environ.get("PSGDIAG_DEBUG"))


def report_error(exc: PsgdiagError) -> None:
    """Print the tool's own error: one sentence, then a hint, on stderr."""
    sys.stderr.write(f"psgdiag: error: {exc.message}\n")
    if exc.hint:
        sys.stderr.write(f"  hint: {exc.hint}\n")


def handled(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn PsgdiagError and unexpected failures into a clean message and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except PsgdiagError as exc:
            if is_debug():
                traceback.print_exc()
            report_error(exc)
            raise typer.Exit(int(exc.code)) from None
        except KeyboardInterrupt:
            sys.stderr.write("psgdiag: interrupted\n")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except BrokenPipeError:
            raise typer.Exit(0) from None
        except Exception as exc:
            if is_debug():
                raise
            sys.stderr.write(f"psgdiag: internal error: {type(exc).__name__}: {exc}\n")
            sys.stderr.write("  hint: run again with --debug for the traceback, and report it\n")
            raise typer.Exit(int(ExitCode.INTERNAL)) from None

    return wrapper


def signature_dirs(given: list[Path] | None) -> list[Path]:
    """Extra signature folders: --signatures (repeatable) then PSGDIAG_SIGNATURES."""
    dirs = list(given or [])
    env = os.environ.get("PSGDIAG_SIGNATURES", "")
    dirs.extend(Path(p) for p in env.split(os.pathsep) if p.strip())
    return dirs


def use_color(choice: bool | None, stream: Any) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set (unless forced)."""
    if choice is not None:
        return choice
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
