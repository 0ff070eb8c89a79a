"""The psgdiag command line: a thin typer layer over psgdiag.api."""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

import typer

from psgdiag import __version__
from psgdiag.cli.common import CliState, PsgdiagGroup

#: Each command and the modules that register it (in this order, for `--help`).
COMMANDS: dict[str, tuple[str, ...]] = {
    "explain": ("explain",),
    "signatures": ("signatures", "signatures_new"),
    "messages": ("messages_cli",),
    "incidents": ("incidents_cli",),
    "triage": ("triage_cli",),
    "probe": ("probe_cli",),
    "run": ("run_cli",),
    "shell": ("shell_cli",),
    "serve": ("serve_cli",),
}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"psgdiag {__version__}")
        raise typer.Exit(0)


def root(
    ctx: typer.Context,
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for the tool's own errors."),
) -> None:
    """psgdiag: diagnose PowerShell Gallery install failures."""
    ctx.obj = CliState(debug=debug)


def build_app(commands: Sequence[str] = tuple(COMMANDS)) -> typer.Typer:
    """Build the typer app with the given commands registered (all by default)."""
    new = typer.Typer(
        name="psgdiag",
        cls=PsgdiagGroup,
        help="Explain failed PowerShell module installs: what went wrong, whose side it is on, "
        "whether it was a gallery outage, and what to do.",
        add_completion=False,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )
    new.callback()(root)
    for name in commands:
        for module in COMMANDS[name]:
            importlib.import_module(f"psgdiag.cli.{module}").register(new)
    return new


def _requested(argv: Sequence[str]) -> tuple[str, ...]:
    """The command named on the command line, so only it is built (start-up time); else all."""
    for arg in argv:
        if arg in COMMANDS:
            return (arg,)
        if not arg.startswith("-"):
            break
    return tuple(COMMANDS)


def __getattr__(name: str) -> Any:
    """`psgdiag.cli.app`: the full app, built on first use (tests, embedding)."""
    if name == "app":
        full = build_app()
        globals()["app"] = full
        return full
    raise AttributeError(name)


def _setup_streams() -> None:
    """Never fail on a console that cannot encode a character (cp437, ASCII)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):
                reconfigure(errors="replace")


def main() -> None:
    """Console-script entry point."""
    _setup_streams()
    try:
        build_app(_requested(sys.argv[1:]))()
    except KeyboardInterrupt:
        sys.stderr.write("psgdiag: interrupted\n")
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except SystemExit as done:
        _leave_now(done.code)
        raise
    _leave_now(0)


def _leave_now(code: object) -> None:
    """End the process at once with `code`, skipping the interpreter's teardown.

    A finished command has no use for the knowledge base, the compiled patterns and the modules
    it loaded, yet freeing them one by one at shutdown costs ~15 ms: a tenth of a small paste's
    run. Exit handlers run and the standard streams are flushed first, as at a normal exit. With
    another thread alive, a non-numeric status or a stream that cannot be flushed, this returns
    and the normal exit follows.
    """
    code = 0 if code is None else code
    threading = sys.modules.get("threading")
    if not isinstance(code, int) or (threading is not None and threading.active_count() > 1):
        return
    import atexit

    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # a closed pipe or a full disk: let the normal exit report it
        return
    os._exit(code)
