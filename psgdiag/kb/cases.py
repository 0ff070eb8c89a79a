"""Run labelled sample cases against the knowledge base; measure precision and recall.

A cases folder holds `<cause-id>/NN-name.log` (the bytes a user would paste) beside
`NN-name.json`: {"expect": [cause, ...acceptable co-labels] or ["none"], "incident": id or null,
"at": optional ISO time}. Per signature S, over all cases:
- predicted: cases whose top diagnosis is S; correct: of those, the ones whose `expect` lists S;
- support: cases whose first label is S; found: of those, the ones whose top diagnosis is S.
precision = correct / predicted, recall = found / support.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from psgdiag.api import diagnose_bytes
from psgdiag.errors import PsgdiagError
from psgdiag.model import KnowledgeBase, Report, TimeRange
from psgdiag.pipeline.when import parse_at
from psgdiag.record import record

if TYPE_CHECKING:
    # for type checking only: kb.report imports rich, which running cases does not need
    from psgdiag.kb.report import CheckResult


@record(frozen=False)
class _Tally:
    predicted: int = 0
    correct: int = 0
    support: int = 0
    found: int = 0


@record
class Case:
    """One labelled sample."""

    log: Path
    expect: tuple[str, ...]
    incident: str | None
    at: TimeRange | None


def diagnosed_ids(report: Report) -> list[str]:
    """Cause ids of a report, best first, with folded consequences after their root."""
    out: list[str] = []
    for d in report.diagnoses:
        out.append(d.signature.id)
        out.extend(d.consequences)
    return out


def read_case(log: Path, known: set[str]) -> Case:
    """Read a case's sidecar; raise ValueError with a readable reason when it is unusable."""

    side = log.with_suffix(".json")
    if not side.is_file():
        raise ValueError("has no .json sidecar")
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"sidecar is not valid JSON: {exc}") from None
    if not isinstance(meta, dict):
        raise ValueError("sidecar must be a JSON object")
    expect = meta.get("expect")
    if not isinstance(expect, list) or not expect or not all(isinstance(e, str) for e in expect):
        raise ValueError("sidecar `expect` must be a non-empty list of cause ids")
    unknown = [e for e in expect if e != "none" and e not in known]
    if unknown:
        raise ValueError(f"sidecar `expect` names unknown causes: {', '.join(unknown)}")
    if "none" in expect and len(expect) > 1:
        raise ValueError('sidecar `expect` mixes "none" with causes')
    incident = meta.get("incident")
    if incident is not None and not isinstance(incident, str):
        raise ValueError("sidecar `incident` must be an id or null")
    at = None
    if meta.get("at"):
        try:
            at = parse_at(str(meta["at"]))
        except PsgdiagError as exc:
            raise ValueError(f"sidecar `at`: {exc.message}") from None
    return Case(log, tuple(expect), incident, at)


def find_cases(folder: Path) -> list[Path]:
    """Every `<cause>/*.log` under the folder, sorted."""
    return sorted(p for p in folder.glob("*/*.log") if p.is_file())


def run_cases(kb: KnowledgeBase, folder: Path, tax: list[str] | None, res: CheckResult) -> None:
    """Diagnose every case, report misses as problems and fill `res.stats`."""

    known = {s.id for s in kb.signatures} | set(tax or ())
    tallies: dict[str, _Tally] = {s.id: _Tally() for s in kb.signatures}
    for log in find_cases(folder):
        where = str(log)
        try:
            case = read_case(log, known)
        except ValueError as exc:
            res.add("cases", "error", where, str(exc))
            continue
        if log.parent.name not in (*case.expect, "none") and log.parent.name in known:
            res.add(
                "cases",
                "warning",
                where,
                f"filed under {log.parent.name!r} but labelled {list(case.expect)}",
            )
        res.cases += 1
        report = diagnose_bytes(log.read_bytes(), kb=kb, at=case.at, source=where)
        res.calibration.extend(
            (d.confidence, case.expect != ("none",) and d.signature.id in case.expect)
            for d in report.diagnoses
        )
        top = report.diagnoses[0].signature.id if report.diagnoses else "none"
        if top in tallies:
            tallies[top].predicted += 1
            tallies[top].correct += top in case.expect
        first = case.expect[0]
        if first in tallies:
            tallies[first].support += 1
            tallies[first].found += top == first
        if case.expect == ("none",):
            if top != "none":
                res.add("cases", "error", where, f"near miss diagnosed as {top!r}")
            continue
        if top not in case.expect:
            listed = diagnosed_ids(report)
            rank = next((i + 1 for i, c in enumerate(listed) if c in case.expect), 0)
            how = f"ranked #{rank}" if rank else "not diagnosed"
            res.add(
                "outranks" if top != "none" else "cases",
                "error",
                where,
                f"top diagnosis is {top!r}; labelled {list(case.expect)} ({how})",
            )
        elif case.incident is not None:
            got = report.diagnoses[0].incident
            if got is None or got.id != case.incident:
                res.add(
                    "cases",
                    "error",
                    where,
                    f"expected incident {case.incident}, got {got.id if got else None}",
                )
    for sig_id, t in sorted(tallies.items()):
        res.stats.append(
            {
                "id": sig_id,
                "support": t.support,
                "found": t.found,
                "predicted": t.predicted,
                "correct": t.correct,
                "precision": round(t.correct / t.predicted, 3) if t.predicted else None,
                "recall": round(t.found / t.support, 3) if t.support else None,
            }
        )
    if not res.cases:
        res.add("cases", "warning", str(folder), "no <cause>/*.log cases found")
