"""Human-readable output of `psgdiag signatures check` (rich text; plain when piped)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from psgdiag.kbcheck import CheckResult


def _pct(value: object) -> str:
    return "-" if not isinstance(value, float) else f"{value:.0%}"


def render_rich(res: CheckResult, out: TextIO) -> None:
    """Print problems grouped by severity, the per-signature measurements and a verdict."""
    con = Console(file=out, soft_wrap=True, highlight=False)
    for sev, style in (("error", "bold red"), ("warning", "yellow")):
        items = [p for p in res.problems if p.severity == sev]
        for p in items:
            con.print(
                f"[{style}]{sev}[/] {escape(f'[{p.check}]')} {escape(p.where)}: {escape(p.message)}"
            )
    rows = [r for r in res.stats if r["support"] or r["predicted"]]
    if rows:
        table = Table(title=f"measured on {res.cases} cases", show_lines=False)
        for col in ("signature", "cases", "found", "pred", "prec", "recall"):
            table.add_column(col, justify="left" if col == "signature" else "right", no_wrap=True)
        for row in rows:
            table.add_row(
                str(row["id"]),
                str(row["support"]),
                str(row["found"]),
                str(row["predicted"]),
                _pct(row["precision"]),
                _pct(row["recall"]),
            )
        con.print(table)
    errors = sum(1 for p in res.problems if p.severity == "error")
    warnings = len(res.problems) - errors
    where = f", taxonomy {res.taxonomy}" if res.taxonomy else ", no taxonomy file found"
    verdict = "[bold green]ok[/]" if res.ok else "[bold red]failed[/]"
    con.print(
        f"{verdict}: {res.signatures} signatures, {res.cases} cases, "
        f"{errors} errors, {warnings} warnings{escape(where)}"
    )
