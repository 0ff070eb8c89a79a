"""The ticket list of the HTML triage report: a row per ticket, and under it the ticket's card.

Each ticket is one <tbody>: its row (path, cause, confidence, side, incident, cluster, time,
first evidence line) and a row holding its full card, the one `psgdiag explain` prints
(psgdiag.serve.card renders it, as on the serve page). Every cell carries the value it sorts by
(`data-value`: a number for the confidence, ISO 8601 UTC for the time), and every group the
values it is filtered by (`data-cause`, `data-side`, `data-incident`, `data-cluster`). The
report's script (report.js) adds sorting, filters, search and expand buttons; without it the
list is a plain table with every card shown.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from html import escape

from psgdiag.serve.card import card_html
from psgdiag.triage.batch import TriageItem, TriageResult
from psgdiag.triage.report import cause_label, iso

# (header, how it sorts: text | number | date; "" for a column that does not sort)
COLUMNS = (
    ("ticket", "text"),
    ("cause", "text"),
    ("confidence", "number"),
    ("side", "text"),
    ("incident", "text"),
    ("cluster", "text"),
    ("time", "date"),
    ("evidence", ""),
)
WIDTHS = (19, 15, 8, 8, 12, 7, 13, 18)  # per cent
NONE = "\u2205"  # the filter value for "no incident" / "no cluster"


def when_cell(it: TriageItem) -> str:
    """The ticket's time and where it came from; without one its era and its upper bound."""
    if it.time is not None:
        source = escape(it.time_kind or it.time_source)
        return f'{iso(it.time)} <span class="muted">({source})</span>'
    parts = []
    if it.era:
        parts.append(f"era {escape(it.era)}")
    if it.not_after is not None:
        parts.append(f"not after {iso(it.not_after)} ({escape(it.not_after_source)} date)")
    return f'<span class="muted">{"; ".join(parts) or "no time"}</span>'


def _options(key: str, label: str, values: Iterable[str], none: str = "") -> str:
    counts = Counter(values)
    opts = ['<option value="">all</option>']
    if none and counts[""]:
        opts.append(f'<option value="{NONE}">{escape(none)} ({counts[""]})</option>')
    opts += [
        f'<option value="{escape(v)}">{escape(v)} ({n})</option>'
        for v, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if v
    ]
    return (
        f'<label>{label} <select class="ticket-filter" id="filter-{key}" data-key="{key}">'
        f"{''.join(opts)}</select></label>"
    )


def _tools(items: tuple[TriageItem, ...]) -> str:
    """The search box and filters (hidden until the script runs: they need it)."""
    return (
        '<div id="ticket-tools" class="tools" hidden>'
        '<label>Search <input type="search" id="ticket-search" '
        'placeholder="path, cause, module, text of the log"></label>'
        + _options("cause", "Cause", (cause_label(it) for it in items))
        + _options("side", "Side", (it.side or "" for it in items), "no side")
        + _options("incident", "Incident", (it.incident or "" for it in items), "no incident")
        + _options("cluster", "Cluster", (it.cluster or "" for it in items), "no cluster")
        + '<span id="ticket-count" class="muted" aria-live="polite"></span></div>'
    )


def _card_cell(i: int, it: TriageItem) -> str:
    """Everything known about the ticket: its cards, or its key lines, and its notes."""
    parts = [card_html(c, f"{i}-{n}", n) for n, c in enumerate(it.cards, 1)]
    if not it.cards and it.key_lines:
        group = f" (group {escape(it.cluster)})" if it.cluster else ""
        parts.append(
            f"<h3>No known cause{group}: its key lines</h3>"
            f"<pre>{escape(chr(10).join(it.key_lines))}</pre>"
        )
    if it.note:
        parts.append(f'<p class="muted">{escape(it.note)}</p>')
    if not parts:
        parts.append('<p class="muted">Nothing more to show.</p>')
    return "".join(parts)


def _group(i: int, it: TriageItem, palette: dict[str, str]) -> str:
    label = cause_label(it)
    sw = f'<span class="swatch" style="background:{palette.get(label, "#999")}"></span>'
    conf = f"{it.confidence:.0%}" if it.cause else ""
    first = ""
    if it.evidence:
        no, text = it.evidence[0]
        more = (
            f' <span class="muted">(+{len(it.evidence) - 1})</span>' if len(it.evidence) > 1 else ""
        )
        first = f'<code title="{escape(text)}">L{no}: {escape(text)}</code>{more}'
    elif it.key_lines:
        first = f'<code title="{escape(it.key_lines[0])}">{escape(it.key_lines[0])}</code>'

    attrs = {
        "cause": label,
        "side": it.side or "",
        "incident": it.incident or "",
        "cluster": it.cluster or "",
        "status": it.status,
    }
    data = " ".join(f'data-{k}="{escape(v)}"' for k, v in attrs.items())
    cells = [
        (it.path, f"{escape(it.path)}"),
        (label, f"{sw}{escape(label)}"),
        (f"{it.confidence:.3f}" if it.cause else "", conf),
        (it.side or "", escape(it.side or "")),
        (it.incident or "", escape(it.incident or "")),
        (it.cluster or "", escape(it.cluster or "")),
        (iso(it.time) or "", when_cell(it)),
        ("", first),
    ]
    row = [f'<th scope="row" data-value="{escape(cells[0][0])}">{cells[0][1]}</th>']
    for n, (value, shown) in enumerate(cells[1:], 1):
        kind = COLUMNS[n][1]
        cls = ' class="n"' if kind == "number" else "" if kind else ' class="ev"'
        row.append(f'<td{cls} data-value="{escape(value)}">{shown}</td>')
    return (
        f'<tbody class="ticket-group" {data}>'
        f'<tr class="ticket" data-status="{escape(it.status)}">{"".join(row)}</tr>'
        f'<tr class="card-row" id="card-row-{i}"><td colspan="{len(COLUMNS)}">'
        f"{_card_cell(i, it)}</td></tr></tbody>"
    )


def ticket_list(result: TriageResult, palette: dict[str, str]) -> list[str]:
    """Return the ticket section: the tools, then the table with a group per ticket."""
    head = "".join(
        f'<th scope="col" data-sort="{kind}" aria-sort="none">{name}</th>'
        if kind
        else f'<th scope="col">{name}</th>'
        for name, kind in COLUMNS
    )
    cols = "".join(f'<col style="width:{w}%">' for w in WIDTHS)
    return [
        '<section id="tickets"><h2>Tickets</h2>',
        _tools(result.items),
        f'<table id="ticket-list"><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead>',
        *(_group(i, it, palette) for i, it in enumerate(result.items, 1)),
        "</table></section>",
    ]
