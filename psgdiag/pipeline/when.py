"""When did the failure happen? Parse --at values and find times written in a log or ticket.

Sources, most trusted first: CI timestamps (UTC), HTTP `Date:` headers in verbose/debug output
(UTC), a transcript header (local time, zone unknown), `Get-Date` output (local), line-start
timestamps without a zone (local), dates written in prose (a whole local day; whenprose.py), a
relative phrase ("yesterday evening") counted from an anchor (an e-mail's Date header). Local
times become a range wide enough for any UTC offset (-12 h .. +14 h), so a correlation never
depends on guessing the user's time zone.
"""

from __future__ import annotations

import datetime as dt
import re

from psgdiag import regexcode
from psgdiag.errors import UsageError
from psgdiag.model import Document, Line, TimeRange
from psgdiag.pipeline import datewords
from psgdiag.pipeline.whenprose import (
    DAY,
    FILE_DATE_LABEL,
    YEAR,
    Lazy,
    local_range,
    mail_anchor,
    month_number,
    prose_time,
    relative_time,
    safe_date,
)

UTC = dt.UTC
_MAX_TRANSCRIPT = dt.timedelta(days=2)  # a longer session says nothing precise about the failure
_WEEKDAY_RX = r"(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?"

# GitHub Actions, Azure Pipelines, Packer -timestamp-ui, Jenkins timestamper ("[...]").
# Without a zone (Octopus, Python-style loggers, custom scripts) the stamp is a local time.
_CI_STAMP = regexcode.compile(
    r"^\ufeff?\[?(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:[.,]\d+)?\s?(Z|[+-]\d\d:?\d\d)?\]?(?!\d)"
)
_HTTP_DATE = Lazy(
    lambda: (
        rf"\bDate:\s*{_WEEKDAY_RX},\s+(\d{{1,2}})\s+({datewords.month_pattern()})\s+"
        r"(\d{4})\s+(\d\d):(\d\d):(\d\d)\s+(?:GMT|UTC)\b"
    ),
    re.IGNORECASE,
)
# "Start time: 20250611143012", also localized ("Startzeit:", "Heure de début :", "開始時刻:").
_TRANSCRIPT = regexcode.compile(r"^([^\d:]{2,40}?)\s*:\s*(\d{14})\s*$")
_GET_DATE = Lazy(
    lambda: (
        rf"\b{_WEEKDAY_RX},\s+({datewords.month_pattern()})\s+(\d{{1,2}}),\s+(\d{{4}})\s+"
        r"(\d{1,2}):(\d\d):(\d\d)\s*([AP]M)?"
    ),
    re.IGNORECASE,
)
# An instant written anywhere on a line, with its zone: "Time:2026-02-02T19:59:07.0126183Z" (an
# Azure storage error), "timestamp": "2024-05-03T10:00:01+02:00" (a JSON log).
_INSTANT = regexcode.compile(
    r"(?<![\w.-])(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:?\d\d)(?![\w:.])"
)
_AT_TIME = regexcode.compile(
    r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?\s*(?:Z|[+-]\d\d:?\d\d)?"
)


def parse_at(value: str) -> TimeRange:
    """Parse --at: a date alone is that whole day in UTC; a time without offset is UTC."""
    text = value.strip()
    hint = "use ISO 8601, e.g. 2016-07-12 or 2016-07-12T14:30:00Z"
    try:
        if re.fullmatch(r"\d{4}-\d\d-\d\d", text):
            day = dt.datetime.fromisoformat(text).replace(tzinfo=UTC)
            return _checked(TimeRange(day, day + DAY, "--at", 0, text), value, hint)
        if not _AT_TIME.fullmatch(text):
            raise ValueError(text)
        when = dt.datetime.fromisoformat(re.sub(r"\s*Z$", "+00:00", text).replace(" ", "T", 1))
    except ValueError:
        raise UsageError(f"--at {value!r} is not a date or time", hint=hint) from None
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return _checked(TimeRange(when, when, "--at", 0, text), value, hint)


def _checked(tr: TimeRange, value: str, hint: str) -> TimeRange:
    if not 1990 <= tr.lo.year <= 2100:
        raise UsageError(f"--at {value!r} is outside the years 1990-2100", hint=hint)
    return tr


def _is_error_line(line: Line) -> bool:
    return line.stream == "error" or "##[error]" in line.raw or "::error" in line.raw


def _stamps(doc: Document, zoned: bool) -> TimeRange | None:
    """Return the line-start timestamp of the first error line (else the last stamped line)."""
    first_error: TimeRange | None = None
    last: TimeRange | None = None
    for line in doc.lines:
        m = _CI_STAMP.match(line.raw.lstrip())
        if not m or (m.group(3) is not None) != zoned:
            continue
        zone = (m.group(3) or "").replace("Z", "+00:00")
        try:
            when = dt.datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}{zone}")
        except ValueError:
            continue
        if zoned:
            utc = when.astimezone(UTC)
            tr = TimeRange(utc, utc, "ci-timestamp", line.no, m.group(0))
        else:
            tr = local_range(when, when, "log-timestamp", line.no, m.group(0))
        last = tr
        if first_error is None and _is_error_line(line):
            first_error = tr
    return first_error or last


def ci_time(doc: Document) -> TimeRange | None:
    """Return the CI timestamp (UTC or with an offset) of the first error line, else the last."""
    return _stamps(doc, zoned=True)


def log_stamp_time(doc: Document) -> TimeRange | None:
    """Return a line-start timestamp without a zone (local time) of the first error line."""
    return _stamps(doc, zoned=False)


def http_date(doc: Document) -> TimeRange | None:
    """Return the span of HTTP `Date:` headers (always GMT) shown in verbose or debug output."""
    found: list[tuple[dt.datetime, Line, str]] = []
    for line in doc.lines:
        if not YEAR.search(line.text):
            continue
        m = _HTTP_DATE.search(line.text)
        if not m:
            continue
        day = safe_date(int(m.group(3)), month_number(m.group(2)), int(m.group(1)))
        if day is None or int(m.group(4)) > 23:
            continue
        when = day.replace(hour=int(m.group(4)), minute=int(m.group(5)), second=int(m.group(6)))
        found.append((when.replace(tzinfo=UTC), line, m.group(0)))
    if not found:
        return None
    lo, hi = min(f[0] for f in found), max(f[0] for f in found)
    return TimeRange(lo, hi, "http-date", found[0][1].no, found[0][2])


def transcript_time(doc: Document) -> TimeRange | None:
    """Return the transcript session span (local time, zone unknown) as a UTC range."""
    start: tuple[dt.datetime, Line, str] | None = None
    last: dt.datetime | None = None
    for line in doc.lines:
        m = _TRANSCRIPT.match(line.text.strip())
        if not m:
            continue
        try:
            when = dt.datetime.strptime(m.group(2), "%Y%m%d%H%M%S")
        except ValueError:
            continue
        if start is None:
            start = (when, line, m.group(0))  # the header comes first, whatever its language
            continue
        if start[0] <= when <= start[0] + _MAX_TRANSCRIPT:
            last = max(last or when, when)
    if start is None:
        return None
    return local_range(start[0], last or start[0], "transcript", start[1].no, start[2])


def instant_time(doc: Document) -> TimeRange | None:
    """Return the first zoned ISO 8601 instant written in a line that no label ties to a file
    (whenprose.FILE_DATE_LABEL, as for dates in prose)."""
    for line in doc.lines:
        if "T" not in line.text or not YEAR.search(line.text):
            continue
        for m in _INSTANT.finditer(line.text):
            if FILE_DATE_LABEL.search(line.text[max(0, m.start() - 40) : m.start()]):
                continue
            zone = m.group(2).replace("Z", "+00:00")
            try:
                when = dt.datetime.fromisoformat(f"{m.group(1)}{zone}").astimezone(UTC)
            except ValueError:
                continue
            return TimeRange(when, when, "instant", line.no, m.group(0))
    return None


def get_date_time(doc: Document) -> TimeRange | None:
    """Return the first `Get-Date` style timestamp (local time, zone unknown)."""
    for line in doc.lines:
        if not YEAR.search(line.text):
            continue
        g = _GET_DATE.search(line.text)
        if not g:
            continue
        hour = int(g.group(4))
        ampm = (g.group(7) or "").upper()
        if ampm:
            if not 1 <= hour <= 12:
                continue
            hour = hour % 12 + (12 if ampm == "PM" else 0)
        day = safe_date(int(g.group(3)), month_number(g.group(1)), int(g.group(2)))
        if day is None or hour > 23 or int(g.group(5)) > 59 or int(g.group(6)) > 59:
            continue
        when = day.replace(hour=hour, minute=int(g.group(5)), second=int(g.group(6)))
        return local_range(when, when, "get-date", line.no, g.group(0))
    return None


def find_time(doc: Document, anchor: dt.datetime | None = None) -> TimeRange | None:
    """Return the best-supported failure time written in the document, or None.

    `anchor` (an e-mail's Date header) lets a relative phrase ("yesterday evening") count; a mail
    header pasted into the text ("Sent: ...") serves the same when no anchor is given.
    """
    finders = (
        ci_time,
        http_date,
        transcript_time,
        get_date_time,
        instant_time,
        log_stamp_time,
        prose_time,
    )
    for finder in finders:
        found = finder(doc)
        if found is not None:
            return found
    anchor = anchor or mail_anchor(doc)
    return relative_time(doc, anchor) if anchor is not None else None
