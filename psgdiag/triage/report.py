"""Triage reports: summary, JSON, CSV, Markdown and rich tables (HTML is psgdiag.triage_html)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from typing import Any, TextIO

from psgdiag.triage.batch import TriageItem, TriageResult

SCHEMA_VERSION = 1
FORMATS = ("rich", "json", "csv", "markdown", "html")
UNRECOGNISED = "(unrecognised)"
CSV_COLUMNS = (
    "path",
    "status",
    "cause",
    "confidence",
    "side",
    "transient",
    "verdict",
    "incident",
    "time",
    "time_source",
    "not_after",
    "cluster",
    "evidence",
    "note",
)


def iso(when: dt.datetime | None) -> str | None:
    """Return an ISO 8601 UTC timestamp ending in Z, or None."""
    if when is None:
        return None
    return when.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def template_text(template: tuple[str, ...]) -> str:
    """Return a group's template lines, or a marker for tickets that hold no text."""
    return "\n".join(template) if template else "(no text)"


def cause_label(item: TriageItem) -> str:
    """Return the cause id, or a label saying why there is none."""
    if item.cause:
        return item.cause
    return {"binary": "(binary)", "unreadable": "(unreadable)"}.get(item.status, UNRECOGNISED)


def summary(result: TriageResult) -> dict[str, Any]:
    """Count the tickets by status, cause, side, incident and verdict."""
    items = result.items
    titles = {it.cause: it.title for it in items if it.cause}
    inc_titles = {it.incident: it.incident_title for it in items if it.incident}
    causes = Counter(it.cause for it in items if it.cause)
    incidents = Counter(it.incident for it in items if it.incident)
    status = Counter(it.status for it in items)
    return {
        "tickets": len(items),
        "diagnosed": status["diagnosed"],
        "unrecognised": status["unrecognised"],
        "binary": status["binary"],
        "unreadable": status["unreadable"],
        "by_cause": [
            {"cause": c, "title": titles[c], "count": n}
            for c, n in sorted(causes.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "by_side": dict(sorted(Counter(it.side for it in items if it.side).items())),
        "by_incident": [
            {"incident": i, "title": inc_titles[i], "count": n}
            for i, n in sorted(incidents.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "by_verdict": dict(sorted(Counter(it.verdict for it in items).items())),
        "clusters": len(result.clusters),
    }


def item_dict(item: TriageItem) -> dict[str, Any]:
    """Serialise one ticket's row."""
    return {
        "path": item.path,
        "status": item.status,
        "cause": item.cause,
        "title": item.title or None,
        "confidence": item.confidence,
        "side": item.side,
        "transient": item.transient,
        "verdict": item.verdict,
        "summary": item.summary or None,
        "incident": item.incident,
        "possible_incidents": list(item.possible_incidents),
        "also": list(item.also),
        "time": iso(item.time),
        "time_source": item.time_source or None,
        "time_kind": item.time_kind or None,
        "era": item.era or None,
        "not_after": iso(item.not_after),
        "not_after_source": item.not_after_source or None,
        "evidence": [{"line": n, "text": t} for n, t in item.evidence],
        "cluster": item.cluster,
        "key_lines": list(item.key_lines),
        "encoding": item.encoding or None,
        "lines": item.lines,
        "note": item.note or None,
    }


def result_dict(result: TriageResult) -> dict[str, Any]:
    """Serialise the whole triage (the shape psgdiag/schemas/triage.schema.json describes)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "kb_version": result.kb_version,
        "items": [item_dict(it) for it in result.items],
        "summary": summary(result),
        "clusters": [
            {
                "id": c.id,
                "template": list(c.template),
                "members": [result.items[i].path for i in c.members],
            }
            for c in result.clusters
        ],
        "incidents": [
            {"id": i.id, "title": i.title, "start": iso(i.start), "end": iso(i.end)}
            for i in result.incidents
        ],
    }


def render_json(result: TriageResult, out: TextIO) -> None:
    """Write the triage as one JSON document."""
    json.dump(result_dict(result), out, indent=2, ensure_ascii=False)
    out.write("\n")


def _cell(text: str) -> str:
    """Keep a spreadsheet from reading a log line (`+ CategoryInfo`, `=...`) as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def render_csv(result: TriageResult, out: TextIO) -> None:
    """Write one CSV row per ticket (first evidence line only)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for it in result.items:
        first = f"{it.evidence[0][0]}: {it.evidence[0][1]}" if it.evidence else ""
        if not first and it.key_lines:
            first = it.key_lines[0]
        writer.writerow(
            [
                _cell(it.path),
                it.status,
                it.cause or "",
                f"{it.confidence:.2f}" if it.cause else "",
                it.side or "",
                "" if it.transient is None else str(it.transient).lower(),
                it.verdict,
                it.incident or "",
                iso(it.time) or "",
                it.time_source,
                iso(it.not_after) or "",
                it.cluster or "",
                _cell(first),
                _cell(it.note),
            ]
        )


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").replace("`", "'")


def render_markdown(result: TriageResult, out: TextIO) -> None:
    """Write a Markdown summary, one table row per ticket, and the unexplained groups."""
    s = summary(result)
    w = out.write
    w("# psgdiag triage\n\n")
    w(
        f"{s['tickets']} tickets: {s['diagnosed']} diagnosed, {s['unrecognised']} unrecognised, "
        f"{s['binary']} binary, {s['unreadable']} unreadable.\n\n"
    )
    w("## By cause\n\n| cause | title | tickets |\n|---|---|---:|\n")
    for row in s["by_cause"]:
        w(f"| `{row['cause']}` | {_md(row['title'])} | {row['count']} |\n")
    if s["unrecognised"]:
        w(f"| {UNRECOGNISED} | | {s['unrecognised']} |\n")
    w("\n## By side\n\n| side | tickets |\n|---|---:|\n")
    for side, n in s["by_side"].items():
        w(f"| {side} | {n} |\n")
    if s["by_incident"]:
        w("\n## By incident\n\n| incident | title | tickets |\n|---|---|---:|\n")
        for row in s["by_incident"]:
            w(f"| `{row['incident']}` | {_md(row['title'])} | {row['count']} |\n")
    w("\n## Tickets\n\n| ticket | cause | confidence | side | incident | evidence |\n")
    w("|---|---|---:|---|---|---|\n")
    for it in result.items:
        ev = f"{it.evidence[0][0]}: {it.evidence[0][1]}" if it.evidence else it.note
        conf = f"{it.confidence:.0%}" if it.cause else ""
        w(
            f"| {_md(it.path)} | {_md(cause_label(it))} | {conf} | {it.side or ''} | "
            f"{it.incident or ''} | {_md(ev)} |\n"
        )
    if result.clusters:
        w("\n## Unexplained failures, grouped\n")
        for c in result.clusters:
            w(f"\n### {c.id} ({len(c.members)} tickets)\n\n```text\n")
            w(template_text(c.template) + "\n```\n\n")
            for i in c.members:
                w(f"- {_md(result.items[i].path)}\n")


def render_rich(result: TriageResult, out: TextIO, *, color: bool = False) -> None:
    """Write a table per ticket and summary tables by cause, side and incident."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    isatty = getattr(out, "isatty", None)
    width = None if isatty is not None and isatty() else 200  # a pipe or file: no mid-path folds
    console = Console(file=out, no_color=not color, highlight=False, soft_wrap=False, width=width)
    tickets = Table(title=f"psgdiag triage: {len(result.items)} tickets", show_lines=False)
    for col in ("ticket", "cause", "confidence", "side", "incident"):
        tickets.add_column(col, overflow="fold")
    for it in result.items:
        conf = f"{it.confidence:.0%}" if it.cause else ""
        label = cause_label(it) + (f" [{it.cluster}]" if it.cluster else "")
        tickets.add_row(escape(it.path), escape(label), conf, it.side or "", it.incident or "")
    console.print(tickets)
    s = summary(result)
    by_cause = Table(title="By cause")
    by_cause.add_column("cause")
    by_cause.add_column("tickets", justify="right")
    for row in s["by_cause"]:
        by_cause.add_row(escape(row["cause"]), str(row["count"]))
    for key in ("unrecognised", "binary", "unreadable"):
        if s[key]:
            by_cause.add_row(escape(f"({key})"), str(s[key]))
    console.print(by_cause)
    for title, data in (("By side", s["by_side"]), ("By verdict", s["by_verdict"])):
        table = Table(title=title)
        table.add_column(title.split()[1])
        table.add_column("tickets", justify="right")
        for key, n in data.items():
            table.add_row(key, str(n))
        console.print(table)
    if s["by_incident"]:
        table = Table(title="By incident")
        for col in ("incident", "title", "tickets"):
            table.add_column(col, justify="right" if col == "tickets" else "left")
        for row in s["by_incident"]:
            table.add_row(row["incident"], escape(row["title"]), str(row["count"]))
        console.print(table)
    for c in result.clusters:
        console.print(f"\n{c.id}: {len(c.members)} unexplained ticket(s) failing like this:")
        for line in template_text(c.template).splitlines():
            console.print(f"    {line}", markup=False)
        for i in c.members:
            console.print(f"  - {result.items[i].path}", markup=False)
