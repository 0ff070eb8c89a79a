"""Results of `psgdiag signatures check`: the problem records, the JSON object and rich text."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from psgdiag.kb.coverage import Coverage
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
    coverage: Coverage | None = None
    # (calibrated confidence, right) of every diagnosis shown for the cases
    calibration: list[tuple[float, bool]] = field(default_factory=list)

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
        "coverage": _coverage_json(res.coverage),
        "calibration": _calibration_json(res),
    }


RELIABILITY_BINS = 10


def reliability(samples: list[tuple[float, bool]]) -> tuple[list[dict[str, object]], float]:
    """Reliability rows (confidence bin, diagnoses, mean confidence, share right) and the ECE."""
    rows: list[dict[str, object]] = []
    ece = 0.0
    for b in range(RELIABILITY_BINS):
        lo, hi = b / RELIABILITY_BINS, (b + 1) / RELIABILITY_BINS
        inside = [(p, ok) for p, ok in samples if lo <= p < hi or (hi == 1.0 and p >= hi)]
        if not inside:
            continue
        conf = sum(p for p, _ in inside) / len(inside)
        right = sum(1 for _, ok in inside if ok) / len(inside)
        rows.append(
            {
                "bin": f"{lo:.1f}-{hi:.1f}",
                "diagnoses": len(inside),
                "confidence": round(conf, 3),
                "right": round(right, 3),
            }
        )
        ece += len(inside) / len(samples) * abs(conf - right)
    return rows, round(ece, 4)


def _calibration_json(res: CheckResult) -> dict[str, object] | None:
    if not res.calibration:
        return None
    # Imported here: only the check output needs the fitted calibration's description.
    from psgdiag.pipeline.calibrate import calibration

    rows, ece = reliability(res.calibration)
    meta = calibration().meta or {}
    return {
        "fitted": meta.get("fitted"),
        "cross_validated_ece": meta.get("cross_validated_ece"),
        "abstain_below": calibration().abstain_below,
        "cases_ece": ece,
        "reliability": rows,
    }


def _coverage_json(cov: Coverage | None) -> dict[str, object] | None:
    if cov is None:
        return None
    return {
        "causes": [
            {"cause": c.cause, "language_neutral": c.language_neutral, "via": list(c.via)}
            for c in cov.causes
        ],
        "unused_messages": list(cov.unused_messages),
        "phrases_without_message": [
            {"signature": sig, "evidence": name} for sig, name in cov.stray_phrases
        ],
    }


def _render_coverage(con: Console, cov: Coverage) -> None:
    neutral = [c.cause for c in cov.causes if c.language_neutral]
    other = [c.cause for c in cov.causes if not c.language_neutral]
    con.print(
        f"language-neutral: {len(neutral)} of {len(cov.causes)} causes can be diagnosed with no "
        "natural-language text (by error ids, exception types, record shapes, facts)"
    )
    if other:
        con.print(f"  only from text: {escape(', '.join(other))}")
    con.print(
        f"catalog: {len(cov.unused_messages)} catalogued messages named by no signature "
        "(`psgdiag messages list --unused`); "
        f"{len(cov.stray_phrases)} text/regex evidence entries match no catalogued message "
        "(prose, sequences, or messages the catalog lacks: `--format json` lists them)"
    )


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
    if res.coverage is not None:
        _render_coverage(con, res.coverage)
    cal = _calibration_json(res)
    if cal is not None:
        table = Table(title="reliability of the confidence shown (these cases)", show_lines=False)
        for col in ("confidence", "diagnoses", "mean", "right"):
            table.add_column(col, justify="right", no_wrap=True)
        for row in cal["reliability"]:  # type: ignore[attr-defined]
            table.add_row(
                str(row["bin"]),
                str(row["diagnoses"]),
                f"{row['confidence']:.2f}",
                f"{row['right']:.2f}",
            )
        con.print(table)
        cv = cal["cross_validated_ece"]
        con.print(
            f"calibration: fitted {cal['fitted'] or 'never'}; ECE on these cases {cal['cases_ece']}"
            + (f", cross-validated {cv} (docs/accuracy.md)" if cv is not None else "")
            + f"; abstain below {cal['abstain_below']}"
        )
    errors = sum(1 for p in res.problems if p.severity == "error")
    warnings = len(res.problems) - errors
    where = f", taxonomy {res.taxonomy}" if res.taxonomy else ", no taxonomy file found"
    verdict = "[bold green]ok[/]" if res.ok else "[bold red]failed[/]"
    con.print(
        f"{verdict}: {res.signatures} signatures, {res.cases} cases, "
        f"{errors} errors, {warnings} warnings{escape(where)}"
    )
