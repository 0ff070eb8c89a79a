"""A report as HTML: the terminal's card (psgdiag.render.terminal) for a web page.

Everything taken from the input (evidence lines, filled-in remedies, summaries) is redacted when
asked, then escaped; the card holds no script and no inline style, so the page's
Content-Security-Policy can forbid both.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from psgdiag.model import Diagnosis, Fault, Report
from psgdiag.pipeline.score import fill
from psgdiag.render import Options
from psgdiag.render.advice import next_steps
from psgdiag.render.markdown import render_report
from psgdiag.render.terminal import SIDE, window_end_text
from psgdiag.serve.masked import masked

Show = Callable[[str], str]
MAX_SPAN = 3  # lines shown after a hit's first line, as in the terminal card


def _shower(redacted: bool) -> Show:
    """Return the function every input-derived string goes through: redact, then escape."""
    if redacted:
        return lambda text: escape(masked(text))
    return escape


def _incident(d: Diagnosis, show: Show) -> list[str]:
    if d.incident is not None:
        inc = d.incident
        span = f"{inc.start.date().isoformat()} .. {window_end_text(inc)}"
        out = [
            '<dt>Known incident</dt><dd class="incident">',
            f"<code>{escape(inc.id)}</code> {show(inc.title)} ({span})",
        ]
        if inc.summary:
            out.append(f"<p>{show(inc.summary)}</p>")
        if inc.workaround:
            out.append(f"<p><strong>What to do:</strong> {show(inc.workaround)}</p>")
        return [*out, "</dd>"]
    if d.possible_incidents:
        spans = "; ".join(
            f"<code>{escape(i.id)}</code> ({i.start.date().isoformat()} .. "
            f"{(i.end or i.end_assumed or i.start).date().isoformat()})"
            for i in d.possible_incidents[-3:]
        )
        return [f'<dt>If it happened during a known incident</dt><dd class="possible">{spans}</dd>']
    return []


def _evidence(d: Diagnosis, report: Report, show: Show) -> list[str]:
    lines = {ln.no: ln.text for ln in reversed(report.document.lines) if ln.text}
    shown: set[int] = set()
    out = ['<h3>Evidence from the log</h3><ul class="evidence">']
    for hit in d.hits:
        if hit.line_start:
            for no in range(hit.line_start, min(hit.line_end, hit.line_start + MAX_SPAN) + 1):
                if no in lines and no not in shown:
                    shown.add(no)
                    out.append(
                        f'<li data-line="{no}"><span class="ln">L{no}</span>'
                        f"<code>{show(lines[no])}</code></li>"
                    )
        elif hit.text:
            out.append(f'<li><span class="ln">·</span><code>{show(hit.text)}</code></li>')
    return [*out, "</ul>"]


def _remedies(d: Diagnosis, n: int, show: Show) -> list[str]:
    sig = d.signature
    if not sig.remedies:
        return []
    variables = dict(d.variables)
    out = ['<h3>Remedies</h3><ol class="remedies">']
    for i, r in enumerate(sig.remedies, 1):
        grade = f"{r.scope.value} scope, {r.risk.value}" + (", needs admin" if r.admin else "")
        out.append(
            f'<li><p>{show(fill(r.title, variables))} <span class="grade">({grade})</span></p>'
        )
        if r.command:
            cmd_id = f"cmd-{n}-{i}"
            out.append(
                f'<pre><code id="{cmd_id}">{show(fill(r.command, variables))}</code></pre>'
                f'<button type="button" class="copy" data-copy="{cmd_id}" hidden>'
                "Copy command</button>"
            )
        if r.cost:
            out.append(f'<p class="cost"><strong>Cost:</strong> {show(r.cost)}</p>')
        if r.verify:
            out.append(
                f'<p class="verify"><strong>Check with:</strong> '
                f"<code>{show(fill(r.verify, variables))}</code></p>"
            )
        out.append("</li>")
    return [*out, "</ol>"]


def card(d: Diagnosis, report: Report, n: int, show: Show) -> str:
    """Return one diagnosis as an <article>: cause, confidence, side, evidence, remedies."""
    sig = d.signature
    action = "retry later" if d.transient or d.fault == Fault.SERVICE else "fix needed"
    rank = "Most likely cause" if n == 1 else "Also possible"
    out = [
        f'<article class="card" data-cause="{escape(sig.id)}" aria-labelledby="card-{n}-title">',
        f'<h2 id="card-{n}-title"><span class="rank">{rank}:</span> {show(sig.title)}</h2>',
        f'<p class="meta"><code class="cause">{escape(sig.id)}</code> '
        f'<span class="confidence">{d.confidence:.0%}</span> '
        f'<span class="action {"retry" if action == "retry later" else "fix"}">{action}</span></p>',
        f'<p class="summary">{show(d.summary)}</p>',
        f'<dl class="facts"><dt>Whose side</dt><dd class="side">{escape(SIDE[d.fault])}</dd>',
        *_incident(d, show),
        "</dl>",
        *_evidence(d, report, show),
    ]
    if d.consequences:
        out.append(f'<p class="also">Also explains: {show(", ".join(d.consequences))}</p>')
    if sig.explain.note:
        out.append(f'<p class="note"><strong>Note:</strong> {show(sig.explain.note)}</p>')
    if sig.explain.hint:
        out.append(f'<p class="hint"><strong>First step:</strong> {show(sig.explain.hint)}</p>')
    out += _remedies(d, n, show)
    return "\n".join([*out, "</article>"])


def _considered(report: Report, show: Show) -> list[str]:
    shown = [w for w in report.runners_up if w.confidence > 0][:4]
    out: list[str] = []
    if shown:
        out.append('<section class="runners-up"><h3>Also considered</h3><ul>')
        out += [
            f"<li><code>{escape(w.cause)}</code> ({w.confidence:.0%}): {show(w.reason)}</li>"
            for w in shown
        ]
        out.append("</ul></section>")
    top = report.diagnoses[0] if report.diagnoses else None
    if top is not None and top.signature.explain.settle and report.runners_up:
        settle = fill(top.signature.explain.settle, dict(top.variables))
        out.append(f'<p class="settle"><strong>To settle it:</strong> {show(settle)}</p>')
    return out


def markdown_reply(report: Report, redacted: bool) -> str:
    """Return the reply `psgdiag explain -f markdown` writes for this report."""
    return render_report(report, Options(redact=redacted))


def report_html(report: Report, *, redacted: bool) -> str:
    """Return the whole result: a card per diagnosis (or none found), runners-up, the reply."""
    show = _shower(redacted)
    out: list[str] = []
    if not report.diagnoses:
        out.append('<article class="card none"><h2>No known cause recognised</h2>')
        out += [f'<p class="note">{show(note)}</p>' for note in report.notes]
        out += [
            f'<p class="hint">{escape(step[0].upper() + step[1:])}.</p>'
            for step in next_steps(report)
        ]
        out.append("</article>")
    out += [card(d, report, n, show) for n, d in enumerate(report.diagnoses, 1)]
    out += _considered(report, show)
    # A newline right after <textarea> is dropped by HTML parsers, so the reply keeps its own.
    out.append(
        '<div class="reply"><button type="button" class="copy primary" id="copy-markdown" '
        'data-copy="markdown-reply" hidden>Copy as Markdown reply</button>'
        "<details><summary>Markdown reply for the ticket</summary>"
        '<label class="visually-hidden" for="markdown-reply">Markdown reply</label>'
        '<textarea id="markdown-reply" readonly rows="12" spellcheck="false">\n'
        f"{escape(markdown_reply(report, redacted))}</textarea></details></div>"
    )
    return "\n".join(out)
