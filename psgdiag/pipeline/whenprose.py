"""Dates written in prose, in the languages of data/dates.toml, and relative days with an anchor.

"on December 14, 2016", "18 February 2025", "am 12. Juli 2016", "le 12 juillet 2016",
"12 de julio de 2016", "2016年7月12日", "2022-06-14", "30/10/2020": a whole local day, or an
instant when a clock time follows. "yesterday evening", "gestern Abend", "hier soir", "昨日の夜":
only where an anchor gives the day they count from (an e-mail's Date header, a pasted mail
header); without one a relative phrase says nothing.

Also home of the helpers every time source shares: the UTC range of a local time whose zone is
unknown, a checked date, and regexes compiled on first use.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from psgdiag import regexcode
from psgdiag.model import Document, TimeRange
from psgdiag.pipeline import datewords

UTC = dt.UTC
LOCAL_BEFORE = dt.timedelta(hours=14)  # UTC+14 is the earliest local clock
LOCAL_AFTER = dt.timedelta(hours=12)  # UTC-12 is the latest
DAY = dt.timedelta(days=1, microseconds=-1)


class Lazy:
    """A regex compiled on first use from a pattern built on first use: the month-name
    patterns cost ~0.7 ms each to compile (and read data/dates.toml), and a paste without a
    four-digit year never needs them."""

    __slots__ = ("_flags", "_make", "_rx")

    def __init__(self, make: Callable[[], str], flags: int = 0) -> None:
        self._make = make
        self._flags = flags
        self._rx: re.Pattern[str] | None = None

    def __getattr__(self, name: str) -> Any:
        if self._rx is None:
            self._rx = regexcode.compile(self._make(), self._flags)
        return getattr(self._rx, name)


def local_range(lo: dt.datetime, hi: dt.datetime, origin: str, line: int, text: str) -> TimeRange:
    """A wall-clock span of unknown zone -> the UTC range it could be."""
    return TimeRange(
        lo.replace(tzinfo=UTC) - LOCAL_BEFORE,
        hi.replace(tzinfo=UTC) + LOCAL_AFTER,
        origin,
        line,
        text,
    )


def safe_date(y: int, m: int, d: int) -> dt.datetime | None:
    """Return that day (naive), or None when it does not exist or lies outside 1990-2100."""
    if not 1990 <= y <= 2100:
        return None
    try:
        return dt.datetime(y, m, d)
    except ValueError:
        return None


def month_number(name: str) -> int:
    """Return the month a written name (any language of data/dates.toml) stands for."""
    return datewords.months()[name.lower()]


#: Every written date the patterns below read holds a four-digit year.
YEAR = regexcode.compile(r"(?:19|20)\d\d")
_MON = datewords.month_pattern
_PROSE_MDY = Lazy(
    lambda: rf"\b({_MON()})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.IGNORECASE
)
_PROSE_DMY = Lazy(
    lambda: (
        rf"\b(\d{{1,2}})(?:st|nd|rd|th|er)?\.?\s+(?:(?:{_joined()})\s+)?({_MON()})\.?,?\s+"
        rf"(?:(?:{_joined()})\s+)?(\d{{4}})\b"
    ),
    re.IGNORECASE,
)
_PROSE_CJK = Lazy(
    lambda: "|".join(
        rf"(\d{{4}})\s*{re.escape(y)}\s*(\d{{1,2}})\s*{re.escape(m)}\s*(\d{{1,2}})\s*{re.escape(d)}"
        for y, m, d in datewords.cjk_marks()
    )
)
# A clock time right after a written date makes it an instant ("12 July 2016 14:31:05").
_CLOCK_AFTER = regexcode.compile(
    r"^,?\s*(?:at\s+|um\s+|à\s+|a las\s+|às\s+)?(\d{1,2}):(\d\d)(?::(\d\d))?(?!\d)"
    r"\s*([ap]\.?m\.?)?",
    re.IGNORECASE,
)
# 30/10/2020 or 10/30/2020: read only when one side cannot be a month (or both are the same);
# 04/05/2022 could be either and says nothing.
_PROSE_NUMERIC = regexcode.compile(r"(?<![\w./:-])(\d{1,2})/(\d{1,2})/(\d{4})(?![\w/:-]|\.\w)")
# "... 4:41:02 AM +00:00", "14:20 UTC", "09:15 GMT+2": the zone turns a local time into an instant.
_ZONE_AFTER = regexcode.compile(
    r"\s*(?:(?:UTC|GMT|Z)(?![A-Za-z])(?:\s*(?P<sign>[+-])(?P<hh>\d{1,2})(?::?(?P<mm>\d\d))?)?"
    r"|(?P<sign2>[+-])(?P<hh2>\d\d):?(?P<mm2>\d\d)(?!\d))"
)
_PROSE_ISO = regexcode.compile(r"(?<![\w.:/-])(\d{4})-(\d\d)-(\d\d)(?![\w:-]|\.\w)")
# A prose date inside a URL, a path or a version string is not when the failure happened.
_NOT_PROSE = regexcode.compile(r"https?://\S+|[A-Za-z]:\\\S+|\b\d+(?:\.\d+){2,}\b")
# ... nor a date that labels a package or file ("PublishedDate : ...", "released on ...",
# "published": "..." in JSON, a certificate's NotAfter).
FILE_DATE_LABEL = regexcode.compile(
    r"(?:publish|releas|install|creat|modif|updat|lastwrite|expir|valid|notbefore|notafter)\w*"
    r"(?:\s*(?:date|time|on|at|from|to|until))?[\s\"']*[:=]?[\s\"']*$",
    re.IGNORECASE,
)
_RELATIVE = Lazy(
    lambda: datewords.alternation([r.phrase for r in datewords.relatives()]), re.IGNORECASE
)


def _joined() -> str:
    return datewords.alternation(list(datewords.joiners()))


def clock_after(day: dt.datetime, rest: str) -> dt.datetime | None:
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
        return safe_date(year, second, first)
    if second > 12 >= first or first == second:
        return safe_date(year, first, second)
    return None


def _day_of(order: str, m: re.Match[str]) -> dt.datetime | None:
    if order == "mdy":
        return safe_date(int(m.group(3)), month_number(m.group(1)), int(m.group(2)))
    if order == "dmy":
        return safe_date(int(m.group(3)), month_number(m.group(2)), int(m.group(1)))
    if order == "num":
        return _numeric_day(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    y, mo, d = (int(g) for g in m.groups() if g is not None)  # iso and cjk: year first
    return safe_date(y, mo, d)


def prose_day(text: str) -> tuple[dt.datetime, dt.datetime | None, str] | None:
    """Return (day, exact local time or None, matched text) of the first usable date."""
    if not YEAR.search(text):
        return None
    text = _NOT_PROSE.sub(" ", text)
    best: tuple[int, dt.datetime, dt.datetime | None, str] | None = None
    orders: tuple[tuple[Any, str], ...] = (
        (_PROSE_MDY, "mdy"),
        (_PROSE_DMY, "dmy"),
        (_PROSE_CJK, "cjk"),
        (_PROSE_ISO, "iso"),
        (_PROSE_NUMERIC, "num"),
    )
    for rx, order in orders:
        for m in rx.finditer(text):
            day = _day_of(order, m)
            if day is None or FILE_DATE_LABEL.search(text[max(0, m.start() - 40) : m.start()]):
                continue
            if best is None or m.start() < best[0]:
                best = (m.start(), day, clock_after(day, text[m.end() :]), m.group(0))
            break
    return best[1:] if best else None


def prose_time(doc: Document) -> TimeRange | None:
    """Return the first written date: an instant with a clock time, else the whole local day.

    A pasted mail header ("Sent: ...") is skipped: when a message was sent bounds the failure
    from above, it does not date it (it anchors relative phrases instead).
    """
    for line in doc.lines:
        found = prose_day(line.text)
        if found is None or _header_value(line.text) is not None:
            continue
        day, when, text = found
        if when is not None and when.tzinfo is not None:
            return TimeRange(when, when, "get-date", line.no, text)
        if when is not None:
            return local_range(when, when, "get-date", line.no, text)
        return local_range(day, day + DAY, "prose", line.no, text)
    return None


def _header_value(text: str) -> str | None:
    """The value of a mail-header line ("Sent: ...") whose label is in data/dates.toml."""
    head, colon, value = text.partition(":")
    label = head.strip()
    # cheap test first: a header label is one short word (most log lines never get further)
    if not colon or not label or len(label) > 12 or not label.isalpha():
        return None
    return value.strip() if label.lower() in datewords.anchor_labels() else None


def mail_anchor(doc: Document) -> dt.datetime | None:
    """The send date of a mail header pasted into the text ("Sent: ...", "Date: ...", ...)."""
    for line in doc.lines[:400]:
        value = _header_value(line.text)
        if value is None:
            continue
        import email.utils  # only for a pasted mail header (start-up time of every other paste)

        try:
            return email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            pass
        found = prose_day(value)
        if found is not None:
            return found[1] or found[0]
    return None


def _boundary(text: str, start: int, end: int) -> bool:
    """Latin-script phrases must stand alone; CJK ones are written without spaces."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    latin = ord(text[start]) < 0x3000
    return not latin or not (before.isalpha() or after.isalpha())


def relative_time(doc: Document, anchor: dt.datetime) -> TimeRange | None:
    """Return the span a relative phrase ("yesterday evening") names, counted from the anchor."""
    table = {r.phrase: r for r in datewords.relatives()}
    for line in doc.lines:
        for m in _RELATIVE.finditer(line.text):
            rel = table.get(m.group(0).lower())
            if rel is None or not _boundary(line.text, m.start(), m.end()):
                continue
            local = anchor.replace(tzinfo=None) if anchor.tzinfo is None else anchor
            base = dt.datetime.combine(local.date(), dt.time()) + dt.timedelta(days=rel.days)
            lo = base + dt.timedelta(hours=rel.first_hour)
            hi = base + dt.timedelta(hours=rel.last_hour, microseconds=-1)
            if anchor.tzinfo is None:
                hi = min(hi, anchor)
                return local_range(lo, hi, "relative", line.no, m.group(0))
            offset = anchor.utcoffset() or dt.timedelta()
            lo_utc = (lo - offset).replace(tzinfo=UTC)
            hi_utc = min((hi - offset).replace(tzinfo=UTC), anchor.astimezone(UTC))
            if hi_utc >= lo_utc:
                return TimeRange(lo_utc, hi_utc, "relative", line.no, m.group(0))
    return None
