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
from psgdiag.model import Incident, KnowledgeBase, TimeRange
from psgdiag.pipeline.ingest import RawText, decode
from psgdiag.pipeline.normalize import normalize
from psgdiag.pipeline.sniff import sniff
from psgdiag.record import replace
from psgdiag.redact import redact as redact_text
from psgdiag.redact.report import masked_report
from psgdiag.triage.cluster import cluster
from psgdiag.triage.collect import MAX_MEMBER_BYTES, Ticket, collect, load, looks_binary
from psgdiag.triage.item import TriageItem, TriageResult, item_from_report
from psgdiag.triage.mail import read_eml

__all__ = ["TriageItem", "TriageResult", "looks_binary", "run", "triage_paths", "triage_safely"]

#: Below this many tickets one process is faster than starting a pool.
POOL_THRESHOLD = 64

Progress = Callable[[int, int], None]


def triage_safely(
    ticket: Ticket,
    kb: KnowledgeBase,
    history: Sequence[Incident],
    at: TimeRange | None,
    *,
    redact: bool = False,
) -> TriageItem:
    """Like triage_ticket, but a failure on one ticket becomes that ticket's row, not a crash."""
    try:
        return triage_ticket(ticket, kb, history, at, redact=redact)
    except Exception as exc:  # one hostile ticket must not lose the whole queue's report
        note = f"psgdiag failed on this ticket ({type(exc).__name__}: {exc}); please report it"
        return _row_without_text(ticket, "unreadable", note, redact)


def triage_ticket(
    ticket: Ticket,
    kb: KnowledgeBase,
    history: Sequence[Incident],
    at: TimeRange | None = None,
    *,
    redact: bool = False,
) -> TriageItem:
    """Read and diagnose one ticket; unreadable or binary tickets get a row with a note.

    With `redact`, the row is built from the masked report (psgdiag.redact.report): the input's
    secrets are masked in every field, psgdiag's own summaries and remedies are left as written.
    """
    if ticket.problem:
        return _row_without_text(ticket, "unreadable", ticket.problem, redact)
    try:
        data = load(ticket)
    except (OSError, KeyError, ValueError, EOFError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return _row_without_text(ticket, "unreadable", f"cannot read: {reason}", redact)
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
    else:
        found = sniff(data)  # the same verdict `explain` refuses an input on
        if found is not None:
            return _row_without_text(ticket, "binary", f"{found.kind}, not a text log", redact)
        doc = normalize(decode(data, ticket.path))
    report = api.diagnose_document(doc, kb=kb, at=at, incidents=history, sent=sent)
    if not redact:
        return item_from_report(ticket.path, report, when, note, bound)
    item = item_from_report(ticket.path, masked_report(report), when, note, bound)
    return replace(item, path=redact_text(item.path), note=redact_text(item.note))


def _row_without_text(ticket: Ticket, status: str, note: str, redact: bool) -> TriageItem:
    """A row for a ticket that gave no text to diagnose: no time, its file date as a bound."""
    source = "file" if ticket.when is not None else ""
    path = redact_text(ticket.path) if redact else ticket.path
    note = redact_text(note) if redact else note
    return TriageItem(path, status, note=note, not_after=ticket.when, not_after_source=source)


# Worker-process state, set once by the pool initializer (the KB is loaded once per worker).
_WORKER: dict[str, object] = {}


def _init_worker(sig_dirs: Sequence[Path], at: TimeRange | None, redact: bool) -> None:
    _WORKER["kb"] = api.load_kb(sig_dirs)
    _WORKER["history"] = inc_mod.load_all()
    _WORKER["at"] = at
    _WORKER["redact"] = redact


def _work(ticket: Ticket) -> TriageItem:
    kb = _WORKER["kb"]
    history = _WORKER["history"]
    at = _WORKER["at"]
    assert isinstance(kb, KnowledgeBase) and isinstance(history, tuple)
    assert at is None or isinstance(at, TimeRange)
    return triage_safely(ticket, kb, history, at, redact=_WORKER["redact"] is True)


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
    redact: bool = False,
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
            items.append(triage_safely(ticket, kb, history, at, redact=redact))
            if progress is not None:
                progress(len(items), total)
    else:
        chunk = max(1, min(32, total // (workers * 8)))
        with ProcessPoolExecutor(
            workers, initializer=_init_worker, initargs=(list(sig_dirs), at, redact)
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
        if i.id in named or (not i.permanent and i.window_start <= hi and i.window_end >= lo)
    )


def triage_paths(
    paths: list[str],
    *,
    sig_dirs: Sequence[Path] = (),
    at: TimeRange | None = None,
    jobs: int = 0,
    progress: Progress | None = None,
    redact: bool = False,
) -> TriageResult:
    """Collect the tickets under the paths and triage them (the input's secrets masked if asked)."""
    tickets = collect(paths)
    return run(tickets, sig_dirs=sig_dirs, at=at, jobs=jobs, progress=progress, redact=redact)
