"""The triage report as one self-contained HTML file: inline CSS, SVG and script, no network.

A Content-Security-Policy meta tag forbids every fetch and allows only the report's own inline
script (by its hash), so the file renders the same offline, attached to a ticket, or opened from
a mail client. The script (report.js) makes the ticket list sortable, filterable, searchable and
expandable; without it the list is a plain table with every ticket's card shown.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from html import escape
from importlib import resources
from typing import Any, TextIO

from psgdiag.triage.batch import TriageResult
from psgdiag.triage.chart import colors, svg
from psgdiag.triage.report import cause_label, summary, template_text
from psgdiag.triage.ticketlist import ticket_list

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1d2327;
background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
table{border-collapse:collapse;margin:4px 0 12px}
th,td{border:1px solid #d7dbdf;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f5f7}td.n{text-align:right}td{overflow-wrap:anywhere}
#ticket-list{width:100%;table-layout:fixed}#ticket-list tbody[hidden]{display:none}
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
details summary{cursor:pointer}.muted{color:#6b7075}[hidden]{display:none!important}
.tools{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;margin:4px 0 8px}
.tools input[type=search]{min-width:18em}
th button.sort{all:unset;cursor:pointer;font-weight:600}th button.sort::after{content:" ↕";
color:#9aa0a6}th[aria-sort=ascending] button.sort::after{content:" ▲"}
th[aria-sort=descending] button.sort::after{content:" ▼"}
#ticket-list th{overflow-wrap:anywhere}
td.ev code{display:block;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
button.expand{border:0;background:none;cursor:pointer;padding:0 4px 0 0;font-size:14px}
tr.card-row>td{background:#fbfcfd;padding:8px 12px}
.card{border:1px solid #d7dbdf;border-radius:6px;padding:6px 12px;margin:6px 0;min-width:0}
.card h2{font-size:15px;margin:4px 0}.card h3{font-size:13px;margin:8px 0 2px}
ul.evidence{list-style:none;padding:0;margin:2px 0;background:#f6f8fa;overflow-x:auto}
ul.evidence li{display:flex;gap:10px;padding:1px 6px;white-space:pre}
.ln{color:#1a5fb4;min-width:3.5em;font-family:ui-monospace,Consolas,monospace}
ol.remedies>li{margin-bottom:6px}ol.remedies p{margin:2px 0}.grade{color:#6b7075}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:4px 0}
dl.facts dt{color:#6b7075}dl.facts dd{margin:0}
.action{padding:0 4px;border-radius:4px;border:1px solid currentColor}
.action.retry{color:#8a5a00}.action.fix{color:#a4262c}
"""


@cache
def script() -> str:
    """The report's inline script (psgdiag/triage/report.js)."""
    return resources.files("psgdiag.triage").joinpath("report.js").read_text("utf-8")


def csp() -> str:
    """The Content-Security-Policy: nothing fetched, only this report's own script runs."""
    digest = base64.b64encode(hashlib.sha256(script().encode("utf-8")).digest()).decode()
    return (
        f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'sha256-{digest}'"
    )


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
        f'<meta http-equiv="Content-Security-Policy" content="{csp()}">',
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
        *ticket_list(result, palette),
        f"<script>{script()}</script>",
        "</body></html>",
    ]
    out.write("\n".join(parts) + "\n")
