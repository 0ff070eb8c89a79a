"""A report as HTML: the terminal's card (psgdiag.render.cards) for a web page.

Every string is escaped; the input's secrets are masked before (psgdiag.redact.report), and only
the input's: psgdiag's own titles, summaries and commands are shown as written. The card holds
no script and no inline style, so a Content-Security-Policy can forbid both. `card_html` also
renders the expandable cards of the triage report (psgdiag.triage.html).
"""

from __future__ import annotations

from html import escape

from psgdiag.model import Report
from psgdiag.pipeline.score import fill
from psgdiag.redact.report import masked_report
from psgdiag.render import Options
from psgdiag.render.advice import next_steps
from psgdiag.render.cards import Card, IncidentView, RemedyView, cards_of
from psgdiag.render.markdown import render_report

POSSIBLE_SHOWN = 3


def _incident(c: Card) -> list[str]:
    if c.incident is not None:
        inc = c.incident
        out = [
            '<dt>Known incident</dt><dd class="incident">',
            f"<code>{escape(inc.id)}</code> {escape(inc.title)} ({escape(inc.span)})",
        ]
        if inc.summary:
            out.append(f"<p>{escape(inc.summary)}</p>")
        if inc.workaround:
            out.append(f"<p><strong>What to do:</strong> {escape(inc.workaround)}</p>")
        return [*out, "</dd>"]
    if c.possible:
        spans = "; ".join(_possible(i) for i in c.possible[:POSSIBLE_SHOWN])
        return [f'<dt>If it happened during a known incident</dt><dd class="possible">{spans}</dd>']
    return []


def _possible(inc: IncidentView) -> str:
    return f"<code>{escape(inc.id)}</code> ({escape(inc.span)})"


def _evidence(c: Card) -> list[str]:
    out = ['<h3>Evidence from the log</h3><ul class="evidence">']
    for no, text in c.evidence:
        if no:
            ln = f'<span class="ln">L{no}</span>'
            out.append(f'<li data-line="{no}">{ln}<code>{escape(text)}</code></li>')
        else:
            out.append(f'<li><span class="ln">·</span><code>{escape(text)}</code></li>')
    return [*out, "</ul>"]


def _remedy(r: RemedyView, cmd_id: str) -> list[str]:
    out = [f'<li><p>{escape(r.title)} <span class="grade">({escape(r.grade)})</span></p>']
    if r.command:
        out.append(
            f'<pre><code id="{cmd_id}">{escape(r.command)}</code></pre>'
            f'<button type="button" class="copy" data-copy="{cmd_id}" hidden>'
            "Copy command</button>"
        )
    if r.cost:
        out.append(f'<p class="cost"><strong>Cost:</strong> {escape(r.cost)}</p>')
    if r.verify:
        out.append(
            f'<p class="verify"><strong>Check with:</strong> <code>{escape(r.verify)}</code></p>'
        )
    return [*out, "</li>"]


def card_html(c: Card, key: str, n: int = 1) -> str:
    """Return one card as an <article>; `key` makes its element ids unique on the page."""
    rank = "Most likely cause" if n == 1 else "Also possible"
    retry = "retry" if c.action == "retry later" else "fix"
    out = [
        f'<article class="card" data-cause="{escape(c.cause)}" aria-labelledby="card-{key}-title">',
        f'<h2 id="card-{key}-title"><span class="rank">{rank}:</span> {escape(c.title)}</h2>',
        f'<p class="meta"><code class="cause">{escape(c.cause)}</code> '
        f'<span class="confidence">{c.confidence:.0%}</span> '
        f'<span class="action {retry}">{c.action}</span></p>',
        f'<p class="summary">{escape(c.summary)}</p>',
        f'<dl class="facts"><dt>Whose side</dt><dd class="side">{escape(c.side)}</dd>',
        f'<dt>When</dt><dd class="when">{escape(c.when)}</dd>',
        *_incident(c),
        "</dl>",
        *_evidence(c),
    ]
    if c.consequences:
        out.append(f'<p class="also">Also explains: {escape(", ".join(c.consequences))}</p>')
    if c.note:
        out.append(f'<p class="note"><strong>Note:</strong> {escape(c.note)}</p>')
    if c.hint:
        out.append(f'<p class="hint"><strong>First step:</strong> {escape(c.hint)}</p>')
    if c.remedies:
        out.append('<h3>Remedies</h3><ol class="remedies">')
        for i, r in enumerate(c.remedies, 1):
            out += _remedy(r, f"cmd-{key}-{i}")
        out.append("</ol>")
    return "\n".join([*out, "</article>"])


def _considered(report: Report) -> list[str]:
    shown = [w for w in report.runners_up if w.confidence > 0][:4]
    out: list[str] = []
    if shown:
        out.append('<section class="runners-up"><h3>Also considered</h3><ul>')
        out += [
            f"<li><code>{escape(w.cause)}</code> ({w.confidence:.0%}): {escape(w.reason)}</li>"
            for w in shown
        ]
        out.append("</ul></section>")
    top = report.diagnoses[0] if report.diagnoses else None
    if top is not None and top.signature.explain.settle and report.runners_up:
        settle = fill(top.signature.explain.settle, dict(top.variables))
        out.append(f'<p class="settle"><strong>To settle it:</strong> {escape(settle)}</p>')
    return out


def report_html(report: Report, *, redacted: bool) -> str:
    """Return the whole result: a card per diagnosis (or none found), runners-up, the reply."""
    shown = masked_report(report) if redacted else report
    out: list[str] = []
    if not shown.diagnoses:
        out.append('<article class="card none"><h2>No known cause recognised</h2>')
        out += [f'<p class="note">{escape(note)}</p>' for note in shown.notes]
        out += [
            f'<p class="hint">{escape(step[0].upper() + step[1:])}.</p>'
            for step in next_steps(shown)
        ]
        out.append("</article>")
    out += [card_html(c, str(n), n) for n, c in enumerate(cards_of(shown), 1)]
    out += _considered(shown)
    # A newline right after <textarea> is dropped by HTML parsers, so the reply keeps its own.
    reply = render_report(shown, Options(redact=False))  # masked above, once
    out.append(
        '<div class="reply"><button type="button" class="copy primary" id="copy-markdown" '
        'data-copy="markdown-reply" hidden>Copy as Markdown reply</button>'
        "<details><summary>Markdown reply for the ticket</summary>"
        '<label class="visually-hidden" for="markdown-reply">Markdown reply</label>'
        '<textarea id="markdown-reply" readonly rows="12" spellcheck="false">\n'
        f"{escape(reply)}</textarea></details></div>"
    )
    return "\n".join(out)
