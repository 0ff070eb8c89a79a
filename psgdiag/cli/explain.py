"""`psgdiag explain [FILE]...`: diagnose pasted, piped or saved install output."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import BinaryIO

import typer

from psgdiag.cli.common import ReportFormat, handled, signature_dirs, use_color
from psgdiag.errors import ExitCode, InputError, UsageError
from psgdiag.model import Report

FORMAT_HELP = "Output format."


def exit_code_for(reports: list[Report]) -> ExitCode:
    """A known cause to fix beats retry-later, which beats nothing recognised."""
    verdicts = {r.verdict for r in reports}
    if "fix" in verdicts:
        return ExitCode.FIX
    if "retry" in verdicts:
        return ExitCode.RETRY
    return ExitCode.OK


def _stdin() -> BinaryIO | None:
    stream = sys.stdin
    if stream is None or stream.closed:
        return None
    try:
        stream.fileno()
    except (OSError, ValueError, AttributeError):
        buf = getattr(stream, "buffer", None)
        return buf if buf is not None else None
    if stream.isatty():
        sys.stderr.write(
            "psgdiag: paste the failed command's output, then press Ctrl-D "
            "(Ctrl-Z then Enter on Windows) to finish.\n"
        )
    return stream.buffer


def diagnose_inputs(
    files: list[str],
    *,
    at: str | None,
    sig_dirs: list[Path],
) -> list[Report]:
    """Read and diagnose each input; standard input when none is given or for '-'."""
    # Imported when the command runs, not when the CLI starts (start-up time).
    from psgdiag import api
    from psgdiag.incidents import history as inc_mod
    from psgdiag.pipeline.bytestream import prefixed
    from psgdiag.pipeline.ingest import open_input, read_all
    from psgdiag.pipeline.sniff import SAMPLE, require_text
    from psgdiag.pipeline.when import parse_at

    when = parse_at(at) if at else None
    kb = api.load_kb(sig_dirs)
    history = inc_mod.load_all()
    names = files or ["-"]
    if names.count("-") > 1:
        raise UsageError("standard input ('-') can be read only once", hint="name it once")
    reports = []
    for name in names:
        stdin = _stdin() if name == "-" else None
        if name == "-" and stdin is None:
            raise InputError("standard input is closed", hint="pass a file name instead")
        stream, display, size = open_input(name, stdin)
        try:
            # A whole input that is not text (a zip, an image, random bytes) is refused here;
            # `psgdiag run` reads build logs without this check, so junk never fails a build.
            head = read_all(stream, display, SAMPLE)
            require_text(head, display)
            doc = api.read_document(prefixed(head, stream), display, size, kb)
        finally:
            if stream is not stdin:
                stream.close()
        reports.append(api.diagnose_document(doc, kb=kb, at=when, incidents=history))
    return reports


def register(app: typer.Typer) -> None:
    """Add the explain command to the app."""

    @app.command()
    @handled
    def explain(
        ctx: typer.Context,
        files: list[str] = typer.Argument(
            None, help="Log files to read; standard input when none or '-'.", show_default=False
        ),
        fmt: ReportFormat = typer.Option(ReportFormat.RICH, "--format", "-f", help=FORMAT_HELP),
        at: str = typer.Option(
            None,
            "--at",
            help="When the failure happened (ISO 8601; a date alone is that whole day, UTC).",
        ),
        signatures: list[Path] = typer.Option(
            None,
            "--signatures",
            help="Extra signature folder (repeatable; also PSGDIAG_SIGNATURES).",
        ),
        exit_zero: bool = typer.Option(
            False, "--exit-zero", help="Exit 0 whenever the report was produced."
        ),
        redact: bool = typer.Option(
            None,
            "--redact/--no-redact",
            help="Mask keys, tokens, e-mails and user names (default: on for markdown).",
            show_default=False,
        ),
        verbose: bool = typer.Option(False, "--verbose", "-v", help="Show why and references."),
        color: bool = typer.Option(
            None, "--color/--no-color", help="Force colour on or off.", show_default=False
        ),
        probe: bool = typer.Option(
            False, "--probe", help="Also check the gallery live for the same module."
        ),
    ) -> None:
        """Explain a failed Install-Module / Install-PSResource from its output."""
        # Imported when the command runs, not when the CLI starts (start-up time).
        from psgdiag import render

        reports = diagnose_inputs(files or [], at=at, sig_dirs=signature_dirs(signatures))
        if probe:
            # Imported when the command runs, not when the CLI starts (start-up time).
            from psgdiag.probe.fold import fold_probe

            reports = [fold_probe(r) for r in reports]
        options = render.Options(
            color=use_color(color, sys.stdout) and fmt == "rich",
            redact=(fmt in ("markdown", "github", "azure", "junit")) if redact is None else redact,
            verbose=verbose,
        )
        render.get(fmt)(reports, sys.stdout, options)
        sys.stdout.flush()
        code = ExitCode.OK if exit_zero else exit_code_for(reports)
        raise typer.Exit(int(code))
