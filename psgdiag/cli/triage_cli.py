"""`psgdiag triage PATH...`: sort a ticket queue by cause, side and incident in one report."""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TextIO

import typer

from psgdiag.cli.common import handled, signature_dirs, use_color
from psgdiag.errors import ExitCode, InputError, UsageError


class TriageFormat(enum.StrEnum):
    """The formats of a triage report."""

    RICH = "rich"
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"
    HTML = "html"


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """Yield a progress callback drawing a rich bar on stderr, or None when not on a terminal."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    bar = Progress(
        "triage",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(file=sys.stderr),
        transient=True,
        # No refresh thread: worker processes are forked while the bar is live, and forking
        # a process that runs another thread can deadlock the child on a lock that thread held.
        auto_refresh=False,
    )
    task = bar.add_task("triage", total=None)

    def advance(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)
        bar.refresh()

    with bar:
        yield advance


@contextmanager
def _sink(output: Path | None) -> Iterator[TextIO]:
    if output is None:
        yield sys.stdout
        return
    try:
        fh = output.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        raise InputError(
            f"cannot write {output} ({exc.strerror})", hint="choose another --output path"
        ) from None
    with fh:
        yield fh


def register(app: typer.Typer) -> None:
    """Add the triage command to the app."""

    @app.command()
    @handled
    def triage(
        ctx: typer.Context,
        paths: Annotated[
            list[str],
            typer.Argument(
                help="Log files, folders (read recursively), .zip archives and .eml messages."
            ),
        ],
        fmt: Annotated[
            TriageFormat, typer.Option("--format", "-f", help="Output format.")
        ] = TriageFormat.RICH,
        output: Annotated[
            Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
        ] = None,
        at: Annotated[
            str | None,
            typer.Option(help="When every ticket failed (ISO 8601), overriding the logs' times."),
        ] = None,
        signatures: Annotated[
            list[Path] | None,
            typer.Option(help="Extra signature folder (repeatable; also PSGDIAG_SIGNATURES)."),
        ] = None,
        jobs: Annotated[
            int,
            typer.Option(
                "--jobs", "-j", help="Worker processes (0: all cores for a big queue, else one)."
            ),
        ] = 0,
        redact: Annotated[
            bool,
            typer.Option(
                "--redact/--no-redact",
                help="Mask keys, tokens, passwords, e-mails and user names (default on).",
            ),
        ] = True,
        color: Annotated[
            bool | None,
            typer.Option("--color/--no-color", help="Force colour on or off.", show_default=False),
        ] = None,
    ) -> None:
        """Triage a queue of tickets: one row per ticket, summaries, and unexplained groups."""
        # Imported when the command runs, not when the CLI starts (start-up time).
        from psgdiag.pipeline.when import parse_at
        from psgdiag.triage import batch as triage_mod
        from psgdiag.triage import report as rep

        if jobs < 0:
            raise UsageError("--jobs must be 0 or more", hint="0 picks a number for you")
        when = parse_at(at) if at else None
        # Imported when the command runs, not when the CLI starts (start-up time).
        from psgdiag.triage.collect import collect

        tickets = collect(paths)
        if not tickets:
            raise InputError(
                "no tickets found under " + ", ".join(paths),
                hint="pass log files, folders of logs, .zip archives or .eml messages",
            )
        show_bar = sys.stderr.isatty() and len(tickets) > 1
        with _progress(show_bar) as progress:
            result = triage_mod.run(
                tickets,
                sig_dirs=signature_dirs(signatures),
                at=when,
                jobs=jobs,
                progress=progress,
                redact=redact,
            )
        with _sink(output) as out:
            if fmt == "json":
                rep.render_json(result, out)
            elif fmt == "csv":
                rep.render_csv(result, out)
            elif fmt == "markdown":
                rep.render_markdown(result, out)
            elif fmt == "html":
                # Imported when the command runs, not when the CLI starts (start-up time).
                from psgdiag.triage.html import render_html

                render_html(result, out)
            else:
                rep.render_rich(result, out, color=use_color(color, out))
        if output is not None:
            sys.stderr.write(
                f"psgdiag: wrote {fmt} report on {len(result.items)} tickets to {output}\n"
            )
        raise typer.Exit(int(ExitCode.OK))
