"""`psgdiag run -- COMMAND...`: run an install, retry what a retry can fix, report the rest."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from psgdiag.cli.common import ReportFormat, handled, signature_dirs, use_color
from psgdiag.cli.explain import FORMAT_HELP
from psgdiag.errors import UsageError

if TYPE_CHECKING:
    import datetime as dt

    # Imported when the command runs, not when the CLI starts (start-up time).
    from psgdiag.model import Report
    from psgdiag.runner.run import RunResult

RUN_HELP = """Run COMMAND, stream its output unchanged, and when it fails say why.

Retries (--retry N) happen only when the diagnosis says a retry can help: a transient or
service-side cause, or a known gallery incident. Exits with the command's own exit code
(127 when it cannot be started, 128+N when it was ended by signal N)."""


def _notify(message: str) -> None:
    sys.stderr.write(f"psgdiag: {message}\n")
    sys.stderr.flush()


def _summary(result: RunResult, retries: int) -> None:
    last = result.attempts[-1] if result.attempts else None
    if result.interrupted:
        _notify(f"interrupted; the command exited with code {result.code}; not retrying")
    elif result.recovered:
        _notify(f"the command succeeded on attempt {len(result.attempts)} after a retry")
    elif last is not None and last.decision is not None and last.code != 0:
        d = last.decision
        if d.retry and retries:
            _notify(f"giving up after {len(result.attempts)} attempts: {d.reason}")
        elif d.retry:
            _notify(f"{d.reason}: --retry N would run it again")
        elif retries:
            _notify(f"not retrying: {d.reason}")


def _emit(
    reports: list[Report], fmt: str, output: Path | None, redact: bool | None, recovered: bool
) -> None:
    # Imported when the command runs, not when the CLI starts (start-up time).
    from psgdiag import render

    fn: render.Renderer | None = render.get(fmt)
    if recovered:  # only CI formats say "passed after a retry": a renderer opts in
        fn = getattr(sys.modules[fn.__module__], "render_recovered", None)
    if fn is None:
        return

    # rich is for people: it goes to stderr so stdout stays exactly the command's own output.
    target: TextIO = sys.stderr if fmt == "rich" else sys.stdout
    options = render.Options(
        color=fmt == "rich" and output is None and use_color(None, target),
        redact=(fmt != "rich" and fmt != "json") if redact is None else redact,
    )
    if output is not None:
        try:
            with output.open("w", encoding="utf-8", newline="\n") as fh:
                fn(reports, fh, options)
        except OSError as exc:
            _notify(f"could not write the report to {output}: {exc.strerror or exc}")
        return
    fn(reports, target, options)
    target.flush()


def register(app: typer.Typer) -> None:
    """Add the run command to the app."""

    @app.command(
        help=RUN_HELP,
        context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True},
    )
    @handled
    def run(
        ctx: typer.Context,
        command: Annotated[list[str], typer.Argument(help="The command and its arguments.")],
        retry: Annotated[
            int, typer.Option("--retry", min=0, max=20, help="Retries at most, when one can help.")
        ] = 0,
        retry_delay: Annotated[
            float,
            typer.Option("--retry-delay", min=0, help="Seconds before the first retry; doubles."),
        ] = 10.0,
        max_delay: Annotated[
            float,
            typer.Option("--max-delay", min=0, help="Longest wait, even if Retry-After asks more."),
        ] = 300.0,
        fmt: Annotated[
            ReportFormat, typer.Option("--format", "-f", help=FORMAT_HELP)
        ] = ReportFormat.RICH,
        output: Annotated[
            Path | None,
            typer.Option("--output", "-o", dir_okay=False, help="Write the report to this file."),
        ] = None,
        signatures: Annotated[
            list[Path] | None,
            typer.Option("--signatures", help="Extra signature folder (repeatable)."),
        ] = None,
        redact: Annotated[
            bool | None,
            typer.Option("--redact/--no-redact", help="Mask secrets (default: on, not rich/json)."),
        ] = None,
    ) -> None:
        # Imported when the command runs, not when the CLI starts (start-up time).
        from psgdiag import api
        from psgdiag.incidents import history as inc_mod
        from psgdiag.model import TimeRange
        from psgdiag.runner.capture import binary_streams
        from psgdiag.runner.run import RetryPolicy, Streams, run_with_retries

        if not command:
            raise UsageError("no command to run", hint="psgdiag run -- pwsh -Command '...'")
        kb = api.load_kb(signature_dirs(signatures))
        history = inc_mod.load_all()
        source = "<" + " ".join(command) + ">"  # not a file: no file= location in annotations

        def diagnose(data: bytes, now: dt.datetime) -> Report:
            at = TimeRange(now, now, "clock")
            return api.diagnose_bytes(data, kb=kb, at=at, incidents=history, source=source)

        out, err = binary_streams()
        policy = RetryPolicy(retries=retry, delay=retry_delay, max_delay=max_delay)
        result = run_with_retries(command, policy, diagnose, Streams(out, err, _notify))
        if result.start_error:
            _notify(f"error: cannot start {command[0]!r}: {result.start_error}")
            sys.stderr.write("  hint: check the command name and PATH (exit code 127)\n")
            raise typer.Exit(result.code)
        _summary(result, retry)
        report = result.last_report
        reports = list(result.recovered) or ([report] if report and result.code else [])
        if reports:
            try:
                _emit(reports, fmt, output, redact, recovered=bool(result.recovered))
            except Exception as exc:  # the report is extra: never trade the command's exit code
                _notify(f"could not render the report ({type(exc).__name__}: {exc})")
        raise typer.Exit(result.code)
