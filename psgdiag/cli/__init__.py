"""The psgdiag command line: a thin typer layer over psgdiag.api."""

from __future__ import annotations

import contextlib
import os
import sys

import typer

from psgdiag import __version__
from psgdiag.cli import (
    explain,
    incidents_cli,
    probe_cli,
    run_cli,
    shell_cli,
    signatures,
    signatures_new,
    triage_cli,
)

app = typer.Typer(
    name="psgdiag",
    help="Explain failed PowerShell module installs: what went wrong, whose side it is on, "
    "whether it was a gallery outage, and what to do.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"psgdiag {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for the tool's own errors."),
) -> None:
    """psgdiag: diagnose PowerShell Gallery install failures."""
    ctx.obj = {"debug": debug}
    if debug:
        os.environ["PSGDIAG_DEBUG"] = "1"


explain.register(app)
signatures.register(app)
incidents_cli.register(app)
signatures_new.register(app)
triage_cli.register(app)
probe_cli.register(app)
run_cli.register(app)
shell_cli.register(app)
# Further commands register here (one module each).


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
        app()
    except KeyboardInterrupt:
        sys.stderr.write("psgdiag: interrupted\n")
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
