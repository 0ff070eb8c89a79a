"""Shared CLI plumbing: error handling, stream set-up, options used by several commands."""

from __future__ import annotations

import enum
import functools
import inspect
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer
from typer.core import TyperGroup

from psgdiag.errors import ExitCode, PsgdiagError, UsageError
from psgdiag.record import record

P = ParamSpec("P")
R = TypeVar("R")


class ReportFormat(enum.StrEnum):
    """The formats of an explain report (`explain`, `run`); psgdiag.render.FORMATS in order."""

    RICH = "rich"
    JSON = "json"
    MARKDOWN = "markdown"
    GITHUB = "github"
    AZURE = "azure"
    JUNIT = "junit"


class TableFormat(enum.StrEnum):
    """The formats of the commands that print a table for people or JSON for programs."""

    RICH = "rich"
    JSON = "json"


#: The `--format` option of those commands, and the `--signatures` option of those that load
#: the knowledge base (one definition, so their help reads the same everywhere).
TABLE_FORMAT = typer.Option(TableFormat.RICH, "--format", "-f", help="Output format.")
SIGNATURE_DIRS = typer.Option(None, "--signatures", help="Extra signature folder.")


@record
class CliState:
    """What the options before the command set for the whole run (the root context's obj)."""

    debug: bool = False


def is_debug(ctx: object) -> bool:
    """Return True when --debug was given before the command this context (if any) runs."""
    # typer hands a command its click context (typer.Context is the annotation that asks for it).
    find_root = getattr(ctx, "find_root", None)
    state = getattr(find_root(), "obj", None) if find_root is not None else None
    return isinstance(state, CliState) and state.debug


def report_error(exc: PsgdiagError) -> None:
    """Print the tool's own error: one sentence, then a hint, on stderr."""
    sys.stderr.write(f"psgdiag: error: {exc.message}\n")
    if exc.hint:
        sys.stderr.write(f"  hint: {exc.hint}\n")


class ChoiceError(typer.BadParameter):
    """An option value outside the option's choices, shown as the tool's own one-line error."""

    def __init__(self, error: UsageError) -> None:
        super().__init__(error.message)
        self.error = error
        self.exit_code = int(error.code)

    def show(self, file: Any = None) -> None:
        """Print the error and its hint on stderr (not click's usage block)."""
        report_error(self.error)


def choice_error(exc: typer.BadParameter) -> ChoiceError | None:
    """Return the one-line error for a value outside an option's choices; None for others."""
    param = exc.param
    choices = getattr(getattr(param, "type", None), "choices", None)
    if param is None or not choices or isinstance(exc, ChoiceError):
        return None
    # click's and typer's choice messages both open with the value's repr: "'xml' is not one of"
    given = exc.message.split(" is not ", 1)[0]
    noun = max(getattr(param, "opts", None) or [param.name or "value"], key=len).lstrip("-")
    names = [str(getattr(c, "value", c)) for c in choices]
    hint = "use " + " or ".join(names) if len(names) == 2 else "use one of: " + ", ".join(names)
    return ChoiceError(UsageError(f"unknown {noun} {given}", hint=hint))


class PsgdiagGroup(TyperGroup):
    """The root command group: a value outside an option's choices is a one-line usage error.

    typer checks choices (enum-typed options) while it parses a command's arguments, before the
    command runs, and would print click's usage block; this error is one sentence and a hint
    like every other error of the tool, with the usage exit code (2).
    """

    def invoke(self, ctx: Any) -> Any:
        """Run the command the arguments name, turning a bad choice into the tool's error."""
        try:
            return super().invoke(ctx)
        except typer.BadParameter as exc:
            better = choice_error(exc)
            if better is None:
                raise
            raise better from None


def handled(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn PsgdiagError and unexpected failures into a clean message and an exit code.

    The command takes a `ctx: typer.Context` parameter: --debug travels in its root's obj.
    """
    if "ctx" not in inspect.signature(fn).parameters:
        raise TypeError(f"{fn.__qualname__}: a @handled command takes a `ctx: typer.Context`")

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        debug = is_debug(kwargs.get("ctx"))
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except PsgdiagError as exc:
            if debug:
                traceback.print_exc()
            report_error(exc)
            raise typer.Exit(int(exc.code)) from None
        except KeyboardInterrupt:
            sys.stderr.write("psgdiag: interrupted\n")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except BrokenPipeError:
            raise typer.Exit(0) from None
        except Exception as exc:
            if debug:
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
