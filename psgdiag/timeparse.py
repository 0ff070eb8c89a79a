"""When did the failure happen? Parse --at values and find times written in a log or ticket.

Sources, most trusted first: CI timestamps (UTC), a transcript header (local time, zone
unknown), `Get-Date` output (local), dates written in prose (a whole local day). Local times
become a range wide enough for any UTC offset (-12 h .. +14 h).
"""

from __future__ import annotations

import datetime as dt
import re

from psgdiag.errors import UsageError
from psgdiag.model import Document, TimeRange

UTC = dt.UTC
_LOCAL_BEFORE = dt.timedelta(hours=14)
_LOCAL_AFTER = dt.timedelta(hours=12)

_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ]
    )
    for m in names
}
_MONTH_RX = "|".join(sorted(_MONTHS, key=len, reverse=True))

_CI_STAMP = re.compile(r"^\ufeff?(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?Z")
_TRANSCRIPT = re.compile(r"^Start time:\s*(\d{14})\s*$")
_GET_DATE = re.compile(
    rf"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday),\s+({_MONTH_RX})\s+"
    r"(\d{1,2}),\s+(\d{4})\s+(\d{1,2}):(\d\d):(\d\d)\s*([AP]M)?",
    re.IGNORECASE,
)
_PROSE_MDY = re.compile(
    rf"\b({_MONTH_RX})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.IGNORECASE
)
_PROSE_DMY = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\.?\s+(?:of\s+)?({_MONTH_RX})\.?,?\s+(\d{{4}})\b", re.IGNORECASE
)
_PROSE_ISO = re.compile(r"(?<![\d.T:-])(\d{4})-(\d\d)-(\d\d)(?![\d:T.-])")


def parse_at(value: str) -> TimeRange:
    """Parse --at: a date alone is that whole day in UTC; a time without offset is UTC."""
    text = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d\d-\d\d", text):
            day = dt.datetime.fromisoformat(text).replace(tzinfo=UTC)
            return TimeRange(day, day + dt.timedelta(days=1, microseconds=-1), "--at", 0, text)
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        raise UsageError(
            f"--at {value!r} is not a date or time",
            hint="use ISO 8601, e.g. 2016-07-12 or 2016-07-12T14:30:00Z",
        ) from None
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return TimeRange(when, when, "--at", 0, text)


def _local(when: dt.datetime, origin: str, line: int, text: str) -> TimeRange:
    base = when.replace(tzinfo=UTC)
    return TimeRange(base - _LOCAL_BEFORE, base + _LOCAL_AFTER, origin, line, text)


def _local_day(day: dt.datetime, origin: str, line: int, text: str) -> TimeRange:
    base = day.replace(tzinfo=UTC)
    end = base + dt.timedelta(days=1, microseconds=-1)
    return TimeRange(base - _LOCAL_BEFORE, end + _LOCAL_AFTER, origin, line, text)


def _safe_date(y: int, m: int, d: int) -> dt.datetime | None:
    if not 1990 <= y <= 2100:
        return None
    try:
        return dt.datetime(y, m, d)
    except ValueError:
        return None


def _ci_time(doc: Document) -> TimeRange | None:
    first_error: TimeRange | None = None
    last: TimeRange | None = None
    for line in doc.lines:
        m = _CI_STAMP.match(line.raw.lstrip())
        if not m:
            continue
        try:
            when = dt.datetime.fromisoformat(m.group(1)).replace(tzinfo=UTC)
        except ValueError:
            continue
        tr = TimeRange(when, when, "ci-timestamp", line.no, m.group(0))
        last = tr
        if first_error is None and (line.stream in ("error", "warning") or "##[error]" in line.raw):
            first_error = tr
    return first_error or last


def _prose_time(doc: Document) -> TimeRange | None:
    for line in doc.lines:
        text = line.text
        for rx, order in ((_PROSE_MDY, "mdy"), (_PROSE_DMY, "dmy"), (_PROSE_ISO, "iso")):
            m = rx.search(text)
            if not m:
                continue
            if order == "mdy":
                day = _safe_date(int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2)))
            elif order == "dmy":
                day = _safe_date(int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1)))
            else:
                day = _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            if day is not None:
                return _local_day(day, "prose", line.no, m.group(0))
    return None


def find_time(doc: Document) -> TimeRange | None:
    """Return the best-supported failure time written in the document, or None."""
    ci = _ci_time(doc)
    if ci is not None:
        return ci
    for line in doc.lines:
        m = _TRANSCRIPT.match(line.text)
        if m:
            try:
                when = dt.datetime.strptime(m.group(1), "%Y%m%d%H%M%S")
            except ValueError:
                continue
            return _local(when, "transcript", line.no, m.group(0))
    for line in doc.lines:
        g = _GET_DATE.search(line.text)
        if g:
            hour = int(g.group(4)) % 12 if g.group(7) else int(g.group(4))
            if (g.group(7) or "").upper() == "PM":
                hour += 12
            day = _safe_date(int(g.group(3)), _MONTHS[g.group(1).lower()], int(g.group(2)))
            if day is not None and hour < 24:
                when = day.replace(hour=hour, minute=int(g.group(5)), second=int(g.group(6)))
                return _local(when, "get-date", line.no, g.group(0))
    return _prose_time(doc)
