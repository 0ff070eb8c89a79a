"""A triage result as the page's table: one row per ticket, its evidence lines unfolding."""

from __future__ import annotations

from html import escape

from psgdiag.triage.batch import TriageItem, TriageResult
from psgdiag.triage.report import cause_label, summary

SIDE_TEXT = {
    "service": "the gallery",
    "network": "the network",
    "client": "the user's machine or command",
    "package": "the package",
    "undetermined": "not settled by the log",
}


def _row(item: TriageItem) -> str:
    conf = f"{item.confidence:.0%}" if item.cause else ""
    body = ""
    if item.evidence:
        lines = "".join(
            f'<li data-line="{n}"><span class="ln">L{n}</span><code>{escape(t)}</code></li>'
            for n, t in item.evidence
        )
        body = (
            f"<details><summary>{len(item.evidence)} evidence line(s)</summary>"
            f'<p>{escape(item.summary)}</p><ul class="evidence">{lines}</ul></details>'
        )
    elif item.key_lines:
        body = "<pre>" + escape("\n".join(item.key_lines)) + "</pre>"
    if item.note:
        body += f'<p class="muted">{escape(item.note)}</p>'
    side = SIDE_TEXT.get(item.side or "", "")
    return (
        f'<tr class="ticket" data-status="{escape(item.status)}">'
        f'<th scope="row">{escape(item.path)}</th>'
        f'<td class="cause"><code>{escape(cause_label(item))}</code></td>'
        f'<td class="n">{conf}</td><td>{escape(side)}</td>'
        f"<td>{escape(item.incident or '')}</td><td>{body}</td></tr>"
    )


def triage_html(result: TriageResult) -> str:
    """Return the summary line and the ticket table (the result is redacted by the caller)."""
    s = summary(result)
    counts = (
        f"{s['tickets']} ticket(s): {s['diagnosed']} diagnosed, {s['unrecognised']} "
        f"unrecognised, {s['binary']} binary, {s['unreadable']} unreadable."
    )
    head = "".join(
        f'<th scope="col">{h}</th>'
        for h in ("ticket", "cause", "confidence", "side", "incident", "evidence")
    )
    rows = "\n".join(_row(it) for it in result.items)
    return (
        f'<h2 id="triage-title">Triage</h2><p class="counts">{counts}</p>'
        '<div class="table-scroll"><table id="tickets" aria-labelledby="triage-title">'
        f"<thead><tr>{head}</tr></thead><tbody>\n{rows}\n</tbody></table></div>"
    )
