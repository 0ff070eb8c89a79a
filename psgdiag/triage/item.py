"""A ticket's row in a triage report, built from its diagnosis (psgdiag.triage.batch)."""

from __future__ import annotations

import datetime as dt

from psgdiag.model import Incident, Report
from psgdiag.pipeline.era import describe
from psgdiag.record import record, replace
from psgdiag.render.cards import Card, cards_of
from psgdiag.render.timesource import time_source
from psgdiag.triage.cluster import Cluster, key_lines, mask

MAX_EVIDENCE = 6


@record
class TriageItem:
    """One ticket's row: its best cause (or why there is none) and the lines that show it."""

    path: str
    status: str  # diagnosed | unrecognised | binary | unreadable
    cause: str | None = None
    title: str = ""
    confidence: float = 0.0
    side: str | None = None
    transient: bool | None = None
    verdict: str = "none"
    summary: str = ""
    incident: str | None = None
    incident_title: str = ""
    possible_incidents: tuple[str, ...] = ()
    also: tuple[str, ...] = ()
    evidence: tuple[tuple[int, str], ...] = ()
    time: dt.datetime | None = None  # only a time the ticket's text gives (or --at)
    time_source: str = ""  # log | at | era | ""
    time_kind: str = ""  # the explain time_source kind (ci-timestamp, transcript, prose, ...)
    era: str = ""  # the era of a ticket without a written time (psgdiag.pipeline.era)
    # when the failure happened at the latest: the file's (or an archive member's) date, or an
    # e-mail's Date header; never the failure time itself
    not_after: dt.datetime | None = None
    not_after_source: str = ""  # file | mail | ""
    encoding: str = ""
    lines: int = 0
    note: str = ""
    key_lines: tuple[str, ...] = ()
    masked: tuple[str, ...] = ()
    cluster: str | None = None
    cards: tuple[Card, ...] = ()  # the terminal's card of each diagnosis, for the HTML report


@record
class TriageResult:
    """The whole queue: rows in input order, groups of unexplained tickets, incidents seen."""

    items: tuple[TriageItem, ...]
    clusters: tuple[Cluster, ...]
    kb_version: str
    incidents: tuple[Incident, ...]


def _time_of(report: Report) -> tuple[dt.datetime | None, str, str]:
    """The ticket's time (the middle of what its text says), its source and its kind."""
    when = report.facts.time
    if when is not None:
        mid = when.lo + (when.hi - when.lo) / 2
        kind = str(time_source(report)["kind"])
        return mid, "at" if when.origin == "--at" else "log", kind
    if report.facts.era is not None:
        return None, "era", "era"
    return None, "", "none"


def item_from_report(
    path: str,
    report: Report,
    not_after: dt.datetime | None,
    note: str = "",
    bound: str = "file",
) -> TriageItem:
    """Build a ticket's row from its report; `not_after` bounds its time (from `bound`)."""
    doc = report.document
    moment, origin, kind = _time_of(report)
    base = TriageItem(
        path=path,
        status="unrecognised",
        verdict=report.verdict,
        time=moment,
        time_source=origin,
        time_kind=kind,
        era=describe(report.facts.era) if report.facts.era is not None else "",
        not_after=not_after,
        not_after_source=bound if not_after is not None else "",
        encoding=doc.encoding,
        lines=doc.total_lines or len(doc.lines),
        note="; ".join(n for n in (note, *report.notes) if n),
    )
    if not report.diagnoses:
        if not any(ln.text.strip() for ln in doc.lines):
            note = "; ".join(n for n in (base.note, "empty: no text to diagnose") if n)
            return replace(base, note=note)
        keys = key_lines(doc, report.facts)
        return replace(base, key_lines=keys, masked=tuple(mask(k) for k in keys))
    top = report.diagnoses[0]
    texts = {ln.no: ln.text for ln in reversed(doc.lines)}
    seen: dict[int, str] = {}
    for hit in sorted(top.hits, key=lambda h: h.line_start):
        if hit.line_start and hit.line_start not in seen and len(seen) < MAX_EVIDENCE:
            seen[hit.line_start] = texts.get(hit.line_start, hit.text)
    return replace(
        base,
        status="diagnosed",
        cause=top.signature.id,
        title=top.signature.title,
        confidence=round(top.confidence, 3),
        side=top.fault.value,
        transient=top.transient,
        summary=top.summary,
        incident=top.incident.id if top.incident else None,
        incident_title=top.incident.title if top.incident else "",
        possible_incidents=tuple(i.id for i in top.possible_incidents),
        also=tuple(d.signature.id for d in report.diagnoses[1:]),
        evidence=tuple(seen.items()),
        cards=cards_of(report),
    )
