"""Where a report's failure time came from, named the same way by every format.

Most trusted first: `--at`, a CI timestamp, an HTTP Date header, a transcript header, a written
date with a clock time, a line-start timestamp, a date in the prose, a relative phrase counted
from a send date; else the era of the clients the log names; else nothing. (Triage adds the
file date, which only bounds the failure time from above.)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from psgdiag.model import Era, Report, TimeRange


def _describe(era: Era) -> str:
    # Imported here: only a paste without a written time needs it (start-up time).
    from psgdiag.pipeline.era import describe

    return describe(era)


#: TimeRange.origin -> (JSON kind, words for people)
KINDS = {
    "--at": ("at", "--at"),
    "ci-timestamp": ("ci-timestamp", "a CI timestamp"),
    "http-date": ("http-date", "an HTTP Date header"),
    "transcript": ("transcript", "the transcript header, local time of unknown zone"),
    "get-date": ("get-date", "a date and time written in the log"),
    "instant": ("get-date", "a date and time with its zone written in the log"),
    "log-timestamp": ("log-timestamp", "a line timestamp, local time of unknown zone"),
    "prose": ("prose", "a date written in the text, the whole local day"),
    "prose-weekday": ("prose", "a day and month written with their weekday, the year from the era"),
    "relative": ("relative", "a relative day counted from when the text was sent"),
}


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _short(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")


def time_source(report: Report) -> dict[str, Any]:
    """The JSON object naming where the time came from (kind, label, line, text)."""
    tr = report.facts.time
    if tr is not None:
        kind, label = KINDS.get(tr.origin, (tr.origin, tr.origin))
        return {"kind": kind, "label": label, "line": tr.line or None, "text": tr.text or None}
    era = report.facts.era
    if era is not None:
        label = f"the era of the clients and platforms the log names: {_describe(era)}"
        line = min((fp.line for fp in era.fingerprints if fp.line), default=None)
        return {"kind": "era", "label": label, "line": line, "text": None}
    return {"kind": "none", "label": "no time written in the log", "line": None, "text": None}


def _span(tr: TimeRange) -> str:
    if tr.lo == tr.hi:
        return f"{_short(tr.lo)} UTC"
    return f"{_short(tr.lo)} .. {_short(tr.hi)} UTC"


def time_text(report: Report) -> str:
    """One line for people: the time or era, and where it came from."""
    tr = report.facts.time
    src = time_source(report)
    if tr is not None:
        where = f", line {tr.line}" if tr.line else ""
        return f"{_span(tr)} (from {src['label']}{where})"
    if report.facts.era is not None:
        return f"not written in the log; era {_describe(report.facts.era)}"
    return "not written in the log (give --at to correlate with incidents)"
