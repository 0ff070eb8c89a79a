"""`psgdiag signatures list | show ID | check`: browse and lint the knowledge base."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from psgdiag.cli.common import SIGNATURE_DIRS, TABLE_FORMAT, TableFormat, handled, signature_dirs
from psgdiag.errors import ExitCode, UsageError

sig_app = typer.Typer(help="Browse and check the signature knowledge base.", no_args_is_help=True)


@sig_app.command("list")
@handled
def list_cmd(
    ctx: typer.Context,
    fmt: TableFormat = TABLE_FORMAT,
    signatures: list[Path] = SIGNATURE_DIRS,
) -> None:
    """List every known cause."""
    # Imported when the command runs, not when the CLI starts (start-up time).
    from psgdiag.kb import load as kb_mod
    from psgdiag.kb.docs import signature_row

    kb = kb_mod.load(signature_dirs(signatures))
    if fmt == "json":
        rows = [signature_row(s, s.source) for s in kb.signatures]
        json.dump({"kb_version": kb.version, "signatures": rows}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"psgdiag signatures ({len(kb.signatures)})", show_lines=False)
    for col in ("id", "side", "retry", "status", "title"):
        table.add_column(col)
    for s in kb.signatures:
        table.add_row(s.id, s.fault.value, "yes" if s.transient else "no", s.status.value, s.title)
    Console(soft_wrap=False).print(table)


@sig_app.command("show")
@handled
def show_cmd(
    ctx: typer.Context,
    sig_id: str = typer.Argument(..., metavar="ID", help="Cause id, e.g. tls12-required."),
    signatures: list[Path] = SIGNATURE_DIRS,
) -> None:
    """Show one cause as a help page: what, why, evidence, remedies, examples."""
    # Imported when the command runs, not when the CLI starts (start-up time).
    from psgdiag.kb import load as kb_mod
    from psgdiag.kb.docs import help_page

    kb = kb_mod.load(signature_dirs(signatures))
    sig = kb.get(sig_id)
    if sig is None:
        import difflib

        close = difflib.get_close_matches(sig_id, [s.id for s in kb.signatures], n=3)
        hint = ("did you mean: " + ", ".join(close)) if close else "see `psgdiag signatures list`"
        raise UsageError(f"no signature with id {sig_id!r}", hint=hint)
    sys.stdout.write(help_page(sig))


@sig_app.command("check")
@handled
def check_cmd(
    ctx: typer.Context,
    signatures: list[Path] = SIGNATURE_DIRS,
    cases: Path = typer.Option(
        None, "--cases", help="Folder of labelled sample cases (default: tests/cases if present)."
    ),
    fmt: TableFormat = TABLE_FORMAT,
) -> None:
    """Lint the knowledge base; with cases, also measure precision and recall per signature."""
    # Imported when the command runs, not when the CLI starts (start-up time).
    from psgdiag.kb.check import run_check

    ok = run_check(signature_dirs(signatures), cases, fmt, sys.stdout)
    raise typer.Exit(int(ExitCode.OK if ok else ExitCode.KB_INVALID))


def register(app: typer.Typer) -> None:
    """Add the signatures command group."""
    app.add_typer(sig_app, name="signatures")
