"""A diagnosis as the terminal's card shows it, as plain data for the HTML renderers.

The card of `psgdiag explain` (psgdiag.render.terminal) lists a cause with its confidence, whose
side it is on, when it happened, the incident, the evidence lines with their numbers, a note, a
hint and the remedies with their commands. `cards_of` gathers exactly that from a report (filled
in, and masked when the report is: psgdiag.redact.report), so the page of `psgdiag serve` and the
ticket list of `psgdiag triage -f html` show the same card from the same code.
"""

from __future__ import annotations

from psgdiag.model import Diagnosis, Fault, Incident, Report
from psgdiag.pipeline.score import fill
from psgdiag.record import record
from psgdiag.render.terminal import SIDE, window_end_text
from psgdiag.render.timesource import time_text

MAX_SPAN = 3  # lines shown after a hit's first line, as in the terminal card


@record
class RemedyView:
    """One remedy as shown: its title, grade and command, placeholders filled in."""

    title: str
    grade: str  # "user scope, safe, needs admin"
    command: str = ""
    cost: str = ""
    verify: str = ""


@record
class IncidentView:
    """An incident named on a card: its id, title and window."""

    id: str
    title: str
    span: str  # "2016-07-12 .. 2016-07-13"
    summary: str = ""
    workaround: str = ""


@record
class Card:
    """Everything one diagnosis's card shows."""

    cause: str
    title: str
    confidence: float
    action: str  # "retry later" | "fix needed"
    summary: str
    side: str
    when: str
    evidence: tuple[tuple[int, str], ...]  # (line number, text); 0 for a hit without a line
    incident: IncidentView | None = None
    possible: tuple[IncidentView, ...] = ()  # incidents that would explain it, best fit first
    consequences: tuple[str, ...] = ()
    note: str = ""
    hint: str = ""
    why: str = ""
    remedies: tuple[RemedyView, ...] = ()
    references: tuple[str, ...] = ()


def action_of(d: Diagnosis) -> str:
    """Return what the reader should do: 'retry later' or 'fix needed'."""
    return "retry later" if d.transient or d.fault == Fault.SERVICE else "fix needed"


def _incident(inc: Incident, *, detail: bool = True) -> IncidentView:
    span = f"{inc.start.date().isoformat()} .. {window_end_text(inc)}"
    if not detail:
        return IncidentView(inc.id, inc.title, span)
    return IncidentView(inc.id, inc.title, span, inc.summary, inc.workaround)


def evidence_of(d: Diagnosis, report: Report) -> tuple[tuple[int, str], ...]:
    """The evidence lines the terminal card prints: each hit's lines (up to 3 more), in order."""
    lines = {ln.no: ln.text for ln in reversed(report.document.lines) if ln.text}
    shown: list[tuple[int, str]] = []
    seen: set[int] = set()
    for h in d.hits:
        if h.line_start:
            for no in range(h.line_start, min(h.line_end, h.line_start + MAX_SPAN) + 1):
                if no in lines and no not in seen:
                    seen.add(no)
                    shown.append((no, lines[no]))
        elif h.text:
            shown.append((0, h.text))
    return tuple(shown)


def remedies_of(d: Diagnosis) -> tuple[RemedyView, ...]:
    """The signature's remedies with the diagnosis's values filled into their placeholders."""
    variables = dict(d.variables)
    return tuple(
        RemedyView(
            title=fill(r.title, variables),
            grade=f"{r.scope.value} scope, {r.risk.value}" + (", needs admin" if r.admin else ""),
            command=fill(r.command, variables) if r.command else "",
            cost=r.cost,
            verify=fill(r.verify, variables) if r.verify else "",
        )
        for r in d.signature.remedies
    )


def card_of(d: Diagnosis, report: Report) -> Card:
    """Return the card of one diagnosis of the report."""
    sig = d.signature
    return Card(
        cause=sig.id,
        title=sig.title,
        confidence=d.confidence,
        action=action_of(d),
        summary=d.summary,
        side=SIDE[d.fault],
        when=time_text(report),
        evidence=evidence_of(d, report),
        incident=_incident(d.incident) if d.incident is not None else None,
        possible=tuple(_incident(i, detail=False) for i in d.possible_incidents),
        consequences=d.consequences,
        note=sig.explain.note,
        hint=sig.explain.hint,
        why=" ".join(sig.explain.why.split()),
        remedies=remedies_of(d),
        references=sig.references,
    )


def cards_of(report: Report) -> tuple[Card, ...]:
    """Return a card per diagnosis, best first."""
    return tuple(card_of(d, report) for d in report.diagnoses)
