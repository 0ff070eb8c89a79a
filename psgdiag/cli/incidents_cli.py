"""`psgdiag incidents list | show | import | sync`: the dated gallery incident history."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Sequence
from typing import Any

import typer

from psgdiag.cli.common import TABLE_FORMAT, TableFormat, handled
from psgdiag.errors import UsageError
from psgdiag.model import Incident
from psgdiag.render.styled import safe

inc_app = typer.Typer(
    help="Browse the PowerShell Gallery incident history and learn new incidents from the "
    "live status page.",
    no_args_is_help=True,
)
IMPACT_TEXT = {
    "Y": "installs failed for some users",
    "P": "partial: slow, some packages or some clients",
    "N": "no install impact (website, login, mail or statistics)",
}


def _iso(when: dt.datetime | None) -> str | None:
    return None if when is None else when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _short(when: dt.datetime) -> str:
    when = when.astimezone(dt.UTC)
    if (when.hour, when.minute) == (0, 0):
        return f"{when:%Y-%m-%d}"
    return f"{when:%Y-%m-%d %H:%M}"


def window_text(inc: Incident) -> str:
    """Describe an incident window in one line, saying when its end is assumed or open."""
    if inc.permanent:
        return f"since {_short(inc.start)} (permanent change)"
    if inc.end is not None:
        return f"{_short(inc.start)} .. {_short(inc.end)} UTC"
    if inc.end_assumed is not None:
        return f"{_short(inc.start)} .. {_short(inc.end_assumed)} UTC (end assumed)"
    if inc.state in ("ongoing", "mitigating"):
        return f"since {_short(inc.start)} ({inc.state} on the status page)"
    return f"since {_short(inc.start)} (no end known)"


def incident_json(inc: Incident, origin: str = "") -> dict[str, Any]:
    """Serialise an incident with everything `show` prints."""
    # Imported when the command runs, not when the CLI starts (start-up time).
    from psgdiag.incidents.history import end_reasons
    from psgdiag.render.json_ import incident_dict

    out = incident_dict(inc, full=True)
    out.update(
        {
            "start": _iso(inc.start),
            "end": _iso(inc.end),
            "end_assumed": _iso(inc.end_assumed),
            "end_reason": inc.end_reason or end_reasons().get(inc.id, ""),
            "permanent": inc.permanent,
            "symptoms": list(inc.symptoms),
        }
    )
    if origin:
        out["origin"] = origin
    return out


def _origin(inc: Incident) -> str:
    # Imported when the command runs, not when the CLI starts (start-up time).
    from psgdiag.incidents.history import bundled

    return "bundled" if any(b.id == inc.id for b in bundled()) else "synced"


def _check_timeout(timeout: float) -> None:
    if not 0 < timeout <= 3600:
        raise UsageError("--timeout must be between 0 and 3600 seconds", hint="e.g. --timeout 15")


def _table(incidents: Sequence[Incident], title: str, mark_synced: bool = False) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for col in ("id", "window", "impact", "causes", "title"):
        table.add_column(col, overflow="fold", no_wrap=col == "id")
    for inc in incidents:
        causes = ", ".join(inc.causes) or "-"
        title_text = inc.title + (" (synced)" if mark_synced and _origin(inc) == "synced" else "")
        cells = (inc.id, window_text(inc), inc.impact, causes, title_text)
        table.add_row(*(escape(safe(c)) for c in cells))
    console = Console(soft_wrap=False)
    if not console.is_terminal:
        console = Console(soft_wrap=False, width=max(console.width, 200))
    console.print(table)


def _warn(problems: Sequence[str]) -> None:
    for problem in problems:
        sys.stderr.write(f"psgdiag: warning: {safe(problem)}\n")


def _dump(rows: list[dict[str, Any]]) -> None:
    json.dump(rows, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


@inc_app.command("list")
@handled
def list_cmd(
    ctx: typer.Context,
    at: str = typer.Option(None, "--at", help="Only incidents whose window includes this time."),
    cause: str = typer.Option(None, "--cause", help="Only incidents that can explain this cause."),
    fmt: TableFormat = TABLE_FORMAT,
) -> None:
    """List the known incidents (bundled history plus the synced cache), oldest first."""
    # Imported when the command runs, not when the CLI starts (start-up time).
    from psgdiag.incidents import history as inc_mod
    from psgdiag.pipeline.when import parse_at

    problems: list[str] = []
    found: Sequence[Incident] = inc_mod.load_all(problems=problems)
    _warn(problems)
    if at:
        found = inc_mod.at_time(found, parse_at(at))
    if cause:
        found = [i for i in found if inc_mod.fits(i, cause)]
    if fmt == "json":
        _dump([incident_json(i, _origin(i)) for i in found])
        return
    if not found:
        typer.echo("no incident matches")
        return
    _table(found, f"PowerShell Gallery incidents ({len(found)})", mark_synced=True)


@inc_app.command("show")
@handled
def show_cmd(
    ctx: typer.Context,
    inc_id: str = typer.Argument(..., metavar="ID", help="Incident id, e.g. INC-2016-07-11-cdn."),
    fmt: TableFormat = TABLE_FORMAT,
) -> None:
    """Show one incident: window, impact, what happened, what to do, symptoms, sources."""
    # Imported when the command runs, not when the CLI starts (start-up time).
    from psgdiag.incidents import history as inc_mod

    problems: list[str] = []
    known = inc_mod.load_all(problems=problems)
    _warn(problems)
    inc = next((i for i in known if i.id.lower() == inc_id.strip().lower()), None)
    if inc is None:
        import difflib

        close = difflib.get_close_matches(inc_id, [i.id for i in known], n=3, cutoff=0.5)
        hint = ("did you mean: " + ", ".join(close)) if close else "see `psgdiag incidents list`"
        raise UsageError(f"no incident with id {inc_id!r}", hint=hint)
    if fmt == "json":
        _dump([incident_json(inc, _origin(inc))])
        return
    reason = inc_mod.end_reasons().get(inc.id, "")
    lines = [
        f"{inc.id}: {inc.title}",
        f"  window:    {window_text(inc)}"
        + (f" [certainty {inc.certainty}]" if inc.certainty else ""),
    ]
    if reason:
        lines.append(f"  end:       {reason}")
    lines.append(
        f"  kind:      {inc.kind}; install impact {inc.impact}: {IMPACT_TEXT.get(inc.impact, '')}"
    )
    lines.append(
        f"  causes:    {', '.join(inc.causes) or 'none (never blamed for an install error)'}"
    )
    for label, text in (
        ("happened", inc.summary),
        ("root cause", inc.root_cause),
        ("what to do", inc.workaround),
    ):
        if text:
            lines.append(f"  {label + ':':<10} {' '.join(text.split())}")
    if inc.symptoms:
        lines.append("  symptoms:")
        lines.extend(f"    {s}" for s in inc.symptoms)
    if inc.sources:
        lines.append("  sources:")
        lines.extend(f"    {s}" for s in inc.sources)
    lines.append(f"  origin:    {_origin(inc)}")
    typer.echo("\n".join(safe(line) for line in lines))


@inc_app.command("import")
@handled
def import_cmd(
    ctx: typer.Context,
    source: str = typer.Argument(
        ..., metavar="FILE|URL", help="A status-page Markdown file or URL."
    ),
    fmt: TableFormat = TABLE_FORMAT,
    timeout: float = typer.Option(
        15.0, "--timeout", help="Overall time budget in seconds (reading and parsing)."
    ),
) -> None:
    """Parse a status page and print the incidents found (nothing is stored)."""
    # Imported when the command runs, not when the CLI starts (start-up time).
    from psgdiag.incidents import sync as incident_sync
    from psgdiag.redact import mask_url

    _check_timeout(timeout)
    result = incident_sync.import_page(source, timeout=timeout)
    _warn(result.warnings)
    if fmt == "json":
        _dump([incident_json(i) for i in result.incidents])
        return
    _table(result.incidents, f"{mask_url(source)}: {len(result.incidents)} incidents")


@inc_app.command("sync")
@handled
def sync_cmd(
    ctx: typer.Context,
    url: str = typer.Argument(None, metavar="[URL]", help="Status page (default: the live one)."),
    timeout: float = typer.Option(
        15.0, "--timeout", help="Overall time budget in seconds (connecting, reading, parsing)."
    ),
) -> None:
    """Fetch the live status page and add new incidents to the user cache."""
    # Imported when the command runs, not when the CLI starts (start-up time).
    from psgdiag.incidents import sync as incident_sync

    _check_timeout(timeout)
    result = incident_sync.sync(url or incident_sync.DEFAULT_URL, timeout=timeout)
    _warn(result.warnings)
    if result.status == "unchanged":
        typer.echo(f"status page unchanged since the last sync; {result.total} cached incidents")
        return
    added = f" ({', '.join(result.added)})" if result.added else ""
    typer.echo(
        f"{len(result.added)} new incidents{added}, {len(result.updated)} updated; "
        f"{result.total} cached in {result.path}"
    )


def register(app: typer.Typer) -> None:
    """Add the incidents command group to the app."""
    app.add_typer(inc_app, name="incidents")
