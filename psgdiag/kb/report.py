"""Results of `psgdiag signatures check`: the problem records, the JSON object and rich text."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from psgdiag.kb.problems import Problem
from psgdiag.record import field, record

SCHEMA_VERSION = 1


@record(frozen=False)
class CheckResult:
    """Everything `signatures check` found."""

    problems: list[Problem] = field(default_factory=list)
    signatures: int = 0
    cases: int = 0
    kb_version: str = ""
    taxonomy: str = ""
    stats: list[dict[str, object]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no check reported an error."""
        return not any(p.severity == "error" for p in self.problems)

    def add(self, check: str, severity: str, where: str, message: str) -> None:
        """Record one problem about a whole file (a case, a folder)."""
        self.problems.append(Problem(where, "", message, check, severity))

    def extend(self, problems: Iterable[Problem]) -> None:
        """Record problems found by the schema or a check."""
        self.problems.extend(problems)


def to_json(res: CheckResult) -> dict[str, object]:
    """The stable JSON object printed by `signatures check --format json`."""
    errors = sum(1 for p in res.problems if p.severity == "error")
    return {
        "schema_version": SCHEMA_VERSION,
        "ok": res.ok,
        "kb_version": res.kb_version,
        "signatures": res.signatures,
        "cases": res.cases,
        "taxonomy": res.taxonomy or None,
        "summary": {"errors": errors, "warnings": len(res.problems) - errors},
        "problems": [
            {
                "check": p.check,
                "severity": p.severity,
                "where": p.where,
                "message": p.message,
                "file": p.file,
                "key": p.key,
                "line": p.line or None,
            }
            for p in res.problems
        ],
        "stats": res.stats,
    }


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
