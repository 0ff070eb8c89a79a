"""When did the failure happen? Parse --at values and find times written in a log or ticket.

Sources, most trusted first: CI timestamps (UTC), HTTP `Date:` headers in verbose/debug output
(UTC), a transcript header (local time, zone unknown), `Get-Date` output (local), line-start
timestamps without a zone (local), dates written in prose (a whole local day). Local times
become a range wide enough for any UTC offset (-12 h .. +14 h), so a correlation never depends
on guessing the user's time zone.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from psgdiag.errors import UsageError
from psgdiag.model import Document, Line, TimeRange

UTC = dt.UTC
_LOCAL_BEFORE = dt.timedelta(hours=14)  # UTC+14 is the earliest local clock
_LOCAL_AFTER = dt.timedelta(hours=12)  # UTC-12 is the latest
_MAX_TRANSCRIPT = dt.timedelta(days=2)  # a longer session says nothing precise about the failure
_DAY = dt.timedelta(days=1, microseconds=-1)

# English names (also what the status page uses), then the UI languages seen in localized logs.
_ENGLISH = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_ENGLISH_LONG = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_LOCALIZED = [
    "januar janvier enero janeiro gennaio",
    "februar février fevrier febrero fevereiro febbraio",
    "märz maerz mars marzo março marco",
    "avril abril aprile",
    "mai mayo maio maggio",
    "juni juin junio junho giugno",
    "juli juillet julio julho luglio",
    "août aout agosto",
    "septembre septiembre setembro settembre",
    "oktober octobre octubre outubro ottobre",
    "novembre noviembre novembro",
    "dezember décembre decembre diciembre dezembro dicembre",
]
#: English month names and abbreviations -> month number.
ENGLISH_MONTHS = {name: i + 1 for i in range(12) for name in (_ENGLISH[i], _ENGLISH_LONG[i])} | {
    "sept": 9
}
_MONTHS = ENGLISH_MONTHS | {
    name: i + 1 for i, names in enumerate(_LOCALIZED) for name in names.split()
}
_MONTH_RX = "|".join(sorted(_MONTHS, key=len, reverse=True))
_WEEKDAY_RX = r"(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?"


class _Lazy:
    """A regex compiled on first use: the month-name patterns cost ~0.7 ms each to compile, and
    a paste without a four-digit year never needs them."""

    __slots__ = ("_args", "_rx")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._args = (pattern, flags)
        self._rx: re.Pattern[str] | None = None

    def __getattr__(self, name: str) -> Any:
        if self._rx is None:
            self._rx = re.compile(*self._args)
        return getattr(self._rx, name)


#: Every written date the patterns below read holds a four-digit year.
_YEAR = re.compile(r"(?:19|20)\d\d")

# GitHub Actions, Azure Pipelines, Packer -timestamp-ui, Jenkins timestamper ("[...]").
# Without a zone (Octopus, Python-style loggers, custom scripts) the stamp is a local time.
_CI_STAMP = re.compile(
    r"^\ufeff?\[?(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:[.,]\d+)?\s?(Z|[+-]\d\d:?\d\d)?\]?(?!\d)"
)
_HTTP_DATE = _Lazy(
    rf"\bDate:\s*{_WEEKDAY_RX},\s+(\d{{1,2}})\s+({_MONTH_RX})\s+(\d{{4}})\s+"
    r"(\d\d):(\d\d):(\d\d)\s+(?:GMT|UTC)\b",
    re.IGNORECASE,
)
# "Start time: 20250611143012", also localized ("Startzeit:", "Heure de début :", "開始時刻:").
_TRANSCRIPT = re.compile(r"^([^\d:]{2,40}?)\s*:\s*(\d{14})\s*$")
_GET_DATE = _Lazy(
    rf"\b{_WEEKDAY_RX},\s+({_MONTH_RX})\s+(\d{{1,2}}),\s+(\d{{4}})\s+(\d{{1,2}}):(\d\d):(\d\d)"
    r"\s*([AP]M)?",
    re.IGNORECASE,
)
_PROSE_MDY = _Lazy(
    rf"\b({_MONTH_RX})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.IGNORECASE
)
_PROSE_DMY = _Lazy(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th|er)?\.?\s+(?:of\s+|de\s+)?({_MONTH_RX})\.?,?\s+(?:de\s+)?"
    r"(\d{4})\b",
    re.IGNORECASE,
)
# A clock time right after a written date makes it an instant ("12 July 2016 14:31:05").
_CLOCK_AFTER = re.compile(
    r"^,?\s*(?:at\s+|um\s+|à\s+|a las\s+|às\s+)?(\d{1,2}):(\d\d)(?::(\d\d))?(?!\d)"
    r"\s*([ap]\.?m\.?)?",
    re.IGNORECASE,
)
# 30/10/2020 or 10/30/2020: read only when one side cannot be a month (or both are the same);
# 04/05/2022 could be either and says nothing.
_PROSE_NUMERIC = re.compile(r"(?<![\w./:-])(\d{1,2})/(\d{1,2})/(\d{4})(?![\w/:-]|\.\w)")
# "... 4:41:02 AM +00:00", "14:20 UTC", "09:15 GMT+2": the zone turns a local time into an instant.
_ZONE_AFTER = re.compile(
    r"\s*(?:(?:UTC|GMT|Z)(?![A-Za-z])(?:\s*(?P<sign>[+-])(?P<hh>\d{1,2})(?::?(?P<mm>\d\d))?)?"
    r"|(?P<sign2>[+-])(?P<hh2>\d\d):?(?P<mm2>\d\d)(?!\d))"
)
_PROSE_ISO = re.compile(r"(?<![\w.:/-])(\d{4})-(\d\d)-(\d\d)(?![\w:-]|\.\w)")
_AT_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?\s*(?:Z|[+-]\d\d:?\d\d)?")
# A prose date inside a URL, a path or a version string is not when the failure happened.
_NOT_PROSE = re.compile(r"https?://\S+|[A-Za-z]:\\\S+|\b\d+(?:\.\d+){2,}\b")
# ... nor a date that labels a package or file ("PublishedDate : ...", "released on ...").
_LABELLED = re.compile(
    r"(?:publish|releas|install|creat|modif|updat|lastwrite|expir|valid)\w*"
    r"(?:\s*(?:date|time|on|at|from|to|until))?\s*[:=]?\s*$",
    re.IGNORECASE,
)


def parse_at(value: str) -> TimeRange:
    """Parse --at: a date alone is that whole day in UTC; a time without offset is UTC."""
    text = value.strip()
    hint = "use ISO 8601, e.g. 2016-07-12 or 2016-07-12T14:30:00Z"
    try:
        if re.fullmatch(r"\d{4}-\d\d-\d\d", text):
            day = dt.datetime.fromisoformat(text).replace(tzinfo=UTC)
            return _checked(TimeRange(day, day + _DAY, "--at", 0, text), value, hint)
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


def _local(lo: dt.datetime, hi: dt.datetime, origin: str, line: int, text: str) -> TimeRange:
    """A wall-clock span of unknown zone -> the UTC range it could be."""
    return TimeRange(
        lo.replace(tzinfo=UTC) - _LOCAL_BEFORE,
        hi.replace(tzinfo=UTC) + _LOCAL_AFTER,
        origin,
        line,
        text,
    )


def _safe_date(y: int, m: int, d: int) -> dt.datetime | None:
    if not 1990 <= y <= 2100:
        return None
    try:
        return dt.datetime(y, m, d)
    except ValueError:
        return None


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
            tr = _local(when, when, "log-timestamp", line.no, m.group(0))
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
        if not _YEAR.search(line.text):
            continue
        m = _HTTP_DATE.search(line.text)
        if not m:
            continue
        day = _safe_date(int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1)))
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
    return _local(start[0], last or start[0], "transcript", start[1].no, start[2])


def get_date_time(doc: Document) -> TimeRange | None:
    """Return the first `Get-Date` style timestamp (local time, zone unknown)."""
    for line in doc.lines:
        if not _YEAR.search(line.text):
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
        day = _safe_date(int(g.group(3)), _MONTHS[g.group(1).lower()], int(g.group(2)))
        if day is None or hour > 23 or int(g.group(5)) > 59 or int(g.group(6)) > 59:
            continue
        when = day.replace(hour=hour, minute=int(g.group(5)), second=int(g.group(6)))
        return _local(when, when, "get-date", line.no, g.group(0))
    return None


def _clock_after(day: dt.datetime, rest: str) -> dt.datetime | None:
    """The clock time right after a date; aware (UTC) when an offset or UTC/GMT follows it."""
    c = _CLOCK_AFTER.match(rest)
    if c is None:
        return None
    hour, minute, second = int(c.group(1)), int(c.group(2)), int(c.group(3) or 0)
    if c.group(4):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if c.group(4).lower().startswith("p") else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    when = day.replace(hour=hour, minute=minute, second=second)
    z = _ZONE_AFTER.match(rest, c.end())
    if z is None:
        return when
    sign = z.group("sign") or z.group("sign2")
    if sign is None:  # UTC, GMT or Z alone
        return when.replace(tzinfo=UTC)
    hours = int(z.group("hh") or z.group("hh2"))
    minutes = int(z.group("mm") or z.group("mm2") or 0)
    offset = dt.timedelta(hours=hours, minutes=minutes)
    if offset > dt.timedelta(hours=14) or minutes > 59:
        return when  # not an offset after all: keep the local reading
    return (when - offset if sign == "+" else when + offset).replace(tzinfo=UTC)


def _numeric_day(first: int, second: int, year: int) -> dt.datetime | None:
    """Day of a numeric date when its order is certain: DMY if first > 12, MDY if second > 12."""
    if first > 12 >= second:
        return _safe_date(year, second, first)
    if second > 12 >= first or first == second:
        return _safe_date(year, first, second)
    return None


def _prose_day(text: str) -> tuple[dt.datetime, dt.datetime | None, str] | None:
    """Return (day, exact local time or None, matched text) of the first usable date."""
    if not _YEAR.search(text):
        return None
    text = _NOT_PROSE.sub(" ", text)
    best: tuple[int, dt.datetime, dt.datetime | None, str] | None = None
    orders = (
        (_PROSE_MDY, "mdy"),
        (_PROSE_DMY, "dmy"),
        (_PROSE_ISO, "iso"),
        (_PROSE_NUMERIC, "num"),
    )
    for rx, order in orders:
        for m in rx.finditer(text):
            if order == "mdy":
                day = _safe_date(int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2)))
            elif order == "dmy":
                day = _safe_date(int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1)))
            elif order == "num":
                day = _numeric_day(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            else:
                day = _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            if day is None or _LABELLED.search(text[max(0, m.start() - 40) : m.start()]):
                continue
            if best is None or m.start() < best[0]:
                best = (m.start(), day, _clock_after(day, text[m.end() :]), m.group(0))
            break
    return best[1:] if best else None


def prose_time(doc: Document) -> TimeRange | None:
    """Return the first written date: an instant with a clock time, else the whole local day."""
    for line in doc.lines:
        found = _prose_day(line.text)
        if found is None:
            continue
        day, when, text = found
        if when is not None and when.tzinfo is not None:
            return TimeRange(when, when, "get-date", line.no, text)
        if when is not None:
            return _local(when, when, "get-date", line.no, text)
        return _local(day, day + _DAY, "prose", line.no, text)
    return None


def find_time(doc: Document) -> TimeRange | None:
    """Return the best-supported failure time written in the document, or None."""
    finders = (ci_time, http_date, transcript_time, get_date_time, log_stamp_time, prose_time)
    for finder in finders:
        found = finder(doc)
        if found is not None:
            return found
    return None
