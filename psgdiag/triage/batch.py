"""Batch triage: a queue of tickets in, one row per ticket plus groups of unexplained ones out.

Each ticket is read, decoded and diagnosed on its own (psgdiag.api), in worker processes when the
queue is large; each worker loads the knowledge base and the incident history once. A ticket
that cannot be read or is not text still gets its row, with a note, never a crash.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from psgdiag import api
from psgdiag.incidents import history as inc_mod
from psgdiag.model import Incident, KnowledgeBase, Report, TimeRange
from psgdiag.pipeline.era import describe
from psgdiag.pipeline.ingest import RawText, decode
from psgdiag.pipeline.normalize import normalize
from psgdiag.record import record, replace
from psgdiag.render.timesource import time_source
from psgdiag.triage.cluster import Cluster, cluster, key_lines, mask
from psgdiag.triage.collect import (
    MAX_MEMBER_BYTES,
    Ticket,
    collect,
    load,
    looks_binary,
)
from psgdiag.triage.mail import read_eml

MAX_EVIDENCE = 6
#: Below this many tickets one process is faster than starting a pool.
POOL_THRESHOLD = 64

Progress = Callable[[int, int], None]


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
    )


def triage_safely(
    ticket: Ticket, kb: KnowledgeBase, history: Sequence[Incident], at: TimeRange | None
) -> TriageItem:
    """Like triage_ticket, but a failure on one ticket becomes that ticket's row, not a crash."""
    try:
        return triage_ticket(ticket, kb, history, at)
    except Exception as exc:  # one hostile ticket must not lose the whole queue's report
        note = f"psgdiag failed on this ticket ({type(exc).__name__}: {exc}); please report it"
        return _row_without_text(ticket, "unreadable", note)


def triage_ticket(
    ticket: Ticket,
    kb: KnowledgeBase,
    history: Sequence[Incident],
    at: TimeRange | None = None,
) -> TriageItem:
    """Read and diagnose one ticket; unreadable or binary tickets get a row with a note."""
    if ticket.problem:
        return _row_without_text(ticket, "unreadable", ticket.problem)
    try:
        data = load(ticket)
    except (OSError, KeyError, ValueError, EOFError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return _row_without_text(ticket, "unreadable", f"cannot read: {reason}")
    note = ""
    if len(data) > MAX_MEMBER_BYTES:
        data = data[:MAX_MEMBER_BYTES]
        note = f"only the first {MAX_MEMBER_BYTES // (1024 * 1024)} MiB were read"
    when, bound = ticket.when, "file"
    sent: dt.datetime | None = None
    if ticket.fmt == "eml":
        text, sent = read_eml(data)
        if sent is not None:
            when, bound = sent, "mail"
        doc = normalize(RawText(text=text, encoding="eml", source=ticket.path))
    elif looks_binary(data):
        return _row_without_text(ticket, "binary", "binary data, not a text log")
    else:
        doc = normalize(decode(data, ticket.path))
    report = api.diagnose_document(doc, kb=kb, at=at, incidents=history, sent=sent)
    return item_from_report(ticket.path, report, when, note, bound)


def _row_without_text(ticket: Ticket, status: str, note: str) -> TriageItem:
    """A row for a ticket that gave no text to diagnose: no time, its file date as a bound."""
    source = "file" if ticket.when is not None else ""
    return TriageItem(
        ticket.path, status, note=note, not_after=ticket.when, not_after_source=source
    )


# Worker-process state, set once by the pool initializer (the KB is loaded once per worker).
_WORKER: dict[str, object] = {}


def _init_worker(sig_dirs: Sequence[Path], at: TimeRange | None) -> None:

    _WORKER["kb"] = api.load_kb(sig_dirs)
    _WORKER["history"] = inc_mod.load_all()
    _WORKER["at"] = at


def _work(ticket: Ticket) -> TriageItem:
    kb = _WORKER["kb"]
    history = _WORKER["history"]
    at = _WORKER["at"]
    assert isinstance(kb, KnowledgeBase) and isinstance(history, tuple)
    assert at is None or isinstance(at, TimeRange)
    return triage_safely(ticket, kb, history, at)


def auto_jobs(queue: int, jobs: int) -> int:
    """Return how many processes to use: `jobs` when given, else all cores for a big queue."""
    if jobs > 0:
        return jobs
    return (os.cpu_count() or 1) if queue >= POOL_THRESHOLD else 1


def run(
    tickets: Sequence[Ticket],
    *,
    sig_dirs: Sequence[Path] = (),
    at: TimeRange | None = None,
    jobs: int = 0,
    progress: Progress | None = None,
) -> TriageResult:
    """Diagnose every ticket (in `jobs` processes) and group the unexplained ones."""

    kb = api.load_kb(sig_dirs)  # fails fast, in this process, on an invalid KB
    history = inc_mod.load_all()
    total = len(tickets)
    workers = min(auto_jobs(total, jobs), max(total, 1))
    items: list[TriageItem] = []
    if progress is not None:
        progress(0, total)
    if workers <= 1:
        for ticket in tickets:
            items.append(triage_safely(ticket, kb, history, at))
            if progress is not None:
                progress(len(items), total)
    else:
        chunk = max(1, min(32, total // (workers * 8)))
        with ProcessPoolExecutor(
            workers, initializer=_init_worker, initargs=(list(sig_dirs), at)
        ) as pool:
            for item in pool.map(_work, tickets, chunksize=chunk):
                items.append(item)
                if progress is not None:
                    progress(len(items), total)
    return finish(items, kb.version, history)


def finish(
    items: Sequence[TriageItem], kb_version: str, history: Sequence[Incident]
) -> TriageResult:
    """Cluster the unexplained rows and keep the incidents the report refers to or spans."""
    keys = [(i, it.masked) for i, it in enumerate(items) if it.status == "unrecognised"]
    groups = cluster(keys)
    rows = list(items)
    for grp in groups:
        for index in grp.members:
            rows[index] = replace(rows[index], cluster=grp.id)
    return TriageResult(tuple(rows), groups, kb_version, _relevant(rows, history))


def _relevant(items: Sequence[TriageItem], history: Sequence[Incident]) -> tuple[Incident, ...]:
    named = {it.incident for it in items if it.incident}
    times = [it.time for it in items if it.time is not None]
    if not times:
        return tuple(i for i in history if i.id in named)
    lo, hi = min(times), max(times)
    return tuple(
        i
        for i in history
        if i.id in named or (not i.permanent and i.start <= hi and i.window_end >= lo)
    )


def triage_paths(
    paths: list[str],
    *,
    sig_dirs: Sequence[Path] = (),
    at: TimeRange | None = None,
    jobs: int = 0,
    progress: Progress | None = None,
) -> TriageResult:
    """Collect the tickets under the paths and triage them."""
    return run(collect(paths), sig_dirs=sig_dirs, at=at, jobs=jobs, progress=progress)
