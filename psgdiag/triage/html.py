"""The triage report as one self-contained HTML file: inline CSS and SVG, no scripts, no network.

A Content-Security-Policy meta tag forbids every fetch, so the file renders the same offline,
attached to a ticket, or opened from a mail client.
"""

from __future__ import annotations

from html import escape
from typing import Any, TextIO

from psgdiag.triage.batch import TriageItem, TriageResult
from psgdiag.triage.chart import colors, svg
from psgdiag.triage.report import cause_label, iso, summary, template_text

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1d2327;
background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
table{border-collapse:collapse;margin:4px 0 12px}
th,td{border:1px solid #d7dbdf;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f5f7}td.n{text-align:right}td{overflow-wrap:anywhere}
#ticket-list{width:100%;table-layout:fixed}
.cards{display:flex;gap:12px;flex-wrap:wrap}
.card{border:1px solid #d7dbdf;border-radius:6px;padding:8px 14px;min-width:110px}
.card b{display:block;font-size:22px}
.swatch{display:inline-block;width:11px;height:11px;margin-right:5px;border-radius:2px}
svg .plot{fill:#fafbfc;stroke:#e3e6e9}svg .axis{stroke:#5f6368}
svg .tick{font-size:11px;fill:#3c4043}svg .incident{fill:#f9ab00;fill-opacity:.25;
stroke:#e37400;stroke-opacity:.6}
svg .incident-label{font-size:10px;fill:#b06000}
pre{background:#f6f8fa;padding:6px 8px;margin:4px 0;white-space:pre-wrap;word-break:break-word}
.legend-item{display:inline-block;white-space:nowrap;margin-right:10px}
details summary{cursor:pointer}.muted{color:#6b7075}
"""
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _summary_tables(s: dict[str, Any], palette: dict[str, str]) -> list[str]:
    out = ['<section id="summary"><h2>Summary</h2><div class="cards">']
    for key in ("tickets", "diagnosed", "unrecognised", "binary", "unreadable"):
        out.append(f'<div class="card" data-key="{key}"><b>{s[key]}</b>{key}</div>')
    out.append('</div><h3>By cause</h3><table id="by-cause"><tr><th>cause</th><th>title</th>')
    out.append("<th>tickets</th></tr>")
    for row in s["by_cause"]:
        sw = f'<span class="swatch" style="background:{palette.get(row["cause"], "#999")}"></span>'
        out.append(
            f"<tr><td>{sw}<code>{escape(row['cause'])}</code></td><td>{escape(row['title'])}</td>"
            f'<td class="n">{row["count"]}</td></tr>'
        )
    out.append('</table><h3>By side</h3><table id="by-side"><tr><th>side</th><th>tickets</th></tr>')
    for side, n in s["by_side"].items():
        out.append(f'<tr><td>{escape(side)}</td><td class="n">{n}</td></tr>')
    out.append("</table>")
    if s["by_incident"]:
        out.append('<h3>By incident</h3><table id="by-incident"><tr><th>incident</th>')
        out.append("<th>title</th><th>tickets</th></tr>")
        for row in s["by_incident"]:
            out.append(
                f"<tr><td><code>{escape(row['incident'])}</code></td>"
                f'<td>{escape(row["title"])}</td><td class="n">{row["count"]}</td></tr>'
            )
        out.append("</table>")
    out.append("</section>")
    return out


def _when_cell(it: TriageItem) -> str:
    """The ticket's time and where it came from; without one its era and its upper bound."""
    if it.time is not None:
        return (
            f'{iso(it.time)} <span class="muted">({escape(it.time_kind or it.time_source)})</span>'
        )
    parts = []
    if it.era:
        parts.append(f"era {escape(it.era)}")
    if it.not_after is not None:
        parts.append(f"not after {iso(it.not_after)} ({it.not_after_source} date)")
    return f'<span class="muted">{"; ".join(parts) or "no time"}</span>'


def _tickets(result: TriageResult, palette: dict[str, str]) -> list[str]:
    out = ['<section id="tickets"><h2>Tickets</h2><table id="ticket-list">']
    widths = (20, 15, 10, 8, 12, 11, 24)  # per cent: ticket, cause, ..., evidence
    out.append("<colgroup>" + "".join(f'<col style="width:{w}%">' for w in widths) + "</colgroup>")
    out.append("<tr><th>ticket</th><th>cause</th><th>confidence</th><th>side</th>")
    out.append("<th>incident</th><th>time</th><th>evidence</th></tr>")
    for it in result.items:
        label = cause_label(it)
        sw = f'<span class="swatch" style="background:{palette.get(label, "#999")}"></span>'
        conf = f"{it.confidence:.0%}" if it.cause else ""
        when_cell = _when_cell(it)
        if it.evidence:
            lines = "\n".join(f"{n:>5}: {t}" for n, t in it.evidence)
            body = (
                f"<details><summary>{len(it.evidence)} line(s)</summary><pre>{escape(lines)}</pre>"
            )
            body += f"<div>{escape(it.summary)}</div></details>"
        elif it.key_lines:
            body = f"<pre>{escape(chr(10).join(it.key_lines))}</pre>"
        else:
            body = ""
        if it.note:
            body += f'<div class="muted">{escape(it.note)}</div>'
        cluster = f' <span class="muted">[{it.cluster}]</span>' if it.cluster else ""
        out.append(
            f'<tr class="ticket" data-status="{it.status}"><td>{escape(it.path)}</td>'
            f'<td>{sw}{escape(label)}{cluster}</td><td class="n">{conf}</td>'
            f"<td>{escape(it.side or '')}</td><td>{escape(it.incident or '')}</td>"
            f'<td>{when_cell}</td><td class="ev">{body}</td></tr>'
        )
    out.append("</table></section>")
    return out


def _clusters(result: TriageResult) -> list[str]:
    if not result.clusters:
        return []
    out = ['<section id="clusters"><h2>Unexplained failures, grouped</h2>']
    for c in result.clusters:
        members = "".join(f"<li>{escape(result.items[i].path)}</li>" for i in c.members)
        out.append(
            f'<div class="cluster" data-cluster="{c.id}"><h3>{c.id}: {len(c.members)} '
            f"ticket(s)</h3><pre>{escape(template_text(c.template))}</pre><ul>{members}</ul></div>"
        )
    out.append("</section>")
    return out


def render_html(result: TriageResult, out: TextIO) -> None:
    """Write the whole report as a single HTML document."""
    s = summary(result)
    label_of = {i: cause_label(it) for i, it in enumerate(result.items)}
    order = [row["cause"] for row in s["by_cause"]]
    order += sorted({v for v in label_of.values() if v.startswith("(")})
    palette = colors(order)
    legend = "".join(
        f'<span class="legend-item"><span class="swatch" style="background:{palette[label]}">'
        f"</span>{escape(label)}</span> "
        for label in order
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>psgdiag triage: {s['tickets']} tickets</title><style>{CSS}</style></head><body>",
        f"<h1>psgdiag triage: {s['tickets']} tickets</h1>",
        f'<div class="muted">knowledge base {escape(result.kb_version)}</div>',
        *_summary_tables(s, palette),
        '<section id="timeline"><h2>Tickets by cause over time</h2>',
        svg(
            result.items,
            order,
            result.incidents,
            label_of,
            [r["incident"] for r in s["by_incident"]],
        ),
        f'<div class="legend">{legend}</div>',
        '<p class="muted">Shaded bands are known PowerShell Gallery incident windows. A '
        "ticket is plotted at the time its text gives (a CI timestamp, a transcript header, a "
        "written date, ...). A ticket without one is counted apart (no written time): its file "
        "or mail date only says the failure happened before it, and is never plotted as its time."
        "</p></section>",
        *_clusters(result),
        *_tickets(result, palette),
        "</body></html>",
    ]
    out.write("\n".join(parts) + "\n")
