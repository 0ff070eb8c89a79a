"""JSON output (DESIGN.md §4): stable shape, `schema_version`, nothing but JSON on stdout."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any, TextIO

from psgdiag.model import Diagnosis, Era, Incident, Report
from psgdiag.pipeline.score import fill
from psgdiag.render import Options
from psgdiag.render.timesource import time_source

SCHEMA_VERSION = 1


def _iso(when: dt.datetime | None) -> str | None:
    if when is None:
        return None
    return when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def incident_dict(inc: Incident, *, full: bool = True) -> dict[str, Any]:
    """Serialise an incident; the short form is used for possible_incidents."""
    out: dict[str, Any] = {
        "id": inc.id,
        "title": inc.title,
        "start": _iso(inc.start),
        "end": _iso(inc.end),
        "end_assumed": _iso(inc.end_assumed),
        "kind": inc.kind,
    }
    if full:
        out.update(
            {
                "end_assumed": _iso(inc.end_assumed),
                "state": inc.state,
                "certainty": inc.certainty,
                "impact": inc.impact,
                "causes": list(inc.causes),
                "summary": inc.summary,
                "root_cause": inc.root_cause,
                "workaround": inc.workaround,
                "sources": list(inc.sources),
            }
        )
    return out


def _fits(d: Diagnosis) -> tuple[tuple[str, str], ...]:
    if len(d.possible_fit) == len(d.possible_incidents):
        return d.possible_fit
    return tuple(("unknown", "") for _ in d.possible_incidents)


def era_dict(era: Era | None) -> dict[str, Any] | None:
    """Serialise the era of a paste without a written time."""
    if era is None:
        return None
    return {
        "since": era.since.isoformat(),
        "current_until": era.current_until.isoformat() if era.current_until else None,
        "offered_until": era.offered_until.isoformat() if era.offered_until else None,
        "note": era.note,
        "fingerprints": [
            {
                "component": fp.component,
                "label": fp.label,
                "line": fp.line or None,
                "since": fp.since.isoformat(),
                "current_until": fp.current_until.isoformat() if fp.current_until else None,
                "note": fp.note,
                "source": fp.source,
            }
            for fp in era.fingerprints
        ],
    }


def diagnosis_dict(d: Diagnosis) -> dict[str, Any]:
    """Serialise one diagnosis (placeholders in prose and remedies filled in)."""

    sig = d.signature
    variables = dict(d.variables)
    return {
        "cause": sig.id,
        "title": sig.title,
        "confidence": round(d.confidence, 3),
        "fault": d.fault.value,
        "transient": d.transient,
        "category": sig.category,
        "summary": d.summary,
        "why": sig.explain.why,
        "note": sig.explain.note,
        "hint": sig.explain.hint,
        "settle": fill(sig.explain.settle, variables),
        "incident": incident_dict(d.incident) if d.incident else None,
        "possible_incidents": [
            {**incident_dict(i, full=False), "fit": fit, "why": why}
            for i, (fit, why) in zip(d.possible_incidents, _fits(d), strict=True)
        ],
        "not_offered": list(d.not_offered),
        "evidence": [
            {
                "line": h.line_start,
                "line_end": h.line_end,
                "text": h.text,
                "name": h.evidence,
                "strength": h.strength.value,
                "kind": h.kind,
            }
            for h in d.hits
        ],
        "consequences": list(d.consequences),
        "remedies": [
            {
                "title": fill(r.title, variables),
                "command": fill(r.command, variables),
                "scope": r.scope.value,
                "risk": r.risk.value,
                "admin": r.admin,
                "verify": fill(r.verify, variables),
                "cost": r.cost,
            }
            for r in sig.remedies
        ],
        "references": list(sig.references),
        "notes": list(d.notes),
    }


def report_dict(report: Report) -> dict[str, Any]:
    """Serialise a whole report."""
    facts = report.facts
    time = None
    if facts.time is not None:
        time = {
            "start": _iso(facts.time.lo),
            "end": _iso(facts.time.hi),
            "origin": facts.time.origin,
            "line": facts.time.line or None,
        }
    return {
        "schema_version": SCHEMA_VERSION,
        "kb_version": report.kb_version,
        "source": report.document.source,
        "verdict": report.verdict,
        "time_source": time_source(report),
        "diagnoses": [diagnosis_dict(d) for d in report.diagnoses],
        "runners_up": [
            {"cause": w.cause, "confidence": round(w.confidence, 3), "reason": w.reason}
            for w in report.runners_up
        ],
        "facts": {
            "time": time,
            "era": era_dict(facts.era),
            "values": {k: [v.value for v in vals] for k, vals in sorted(facts.values.items())},
            "fqids": [f.value for f in facts.fqids],
            "msg_keys": sorted({m.value for m in facts.msg_keys}),
            "http_statuses": sorted({s for s, _ in facts.http_statuses}),
        },
        "input": {
            "encoding": report.document.encoding,
            "lines": report.document.total_lines,
        },
        "notes": list(report.notes),
        "messages": [
            {
                "id": s.message,
                "line": s.line_start or None,
                "line_end": s.line_end or None,
                "how": s.how,
                "locale": s.locale or None,
            }
            for s in report.said
        ],
        "probe": report.probe.as_json() if report.probe is not None else None,
    }


def render(reports: Sequence[Report], out: TextIO, options: Options | None = None) -> None:
    """Write one JSON object (one input) or a JSON array of them (several inputs)."""
    if options is not None and options.redact:
        # Imported here: only a redacted document needs the patterns (start-up time).
        from psgdiag.redact.report import masked_report

        reports = [masked_report(r) for r in reports]
    docs = [report_dict(r) for r in reports]
    payload: Any = docs[0] if len(docs) == 1 else docs
    json.dump(payload, out, indent=2, ensure_ascii=False)
    out.write("\n")
