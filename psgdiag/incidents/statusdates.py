"""Dates and clock times as the status page writes them, turned into UTC.

Headings: `7/13/2016 - Title`, `06/03/2021 02:28 UTC Title`, `May 2nd, 2022 16:41 UTC Title`,
`March 14th 2025, Title` (ordinal typos such as "14nd" are accepted; an odd year such as "204"
is returned as is and repaired by the caller). Bodies: "Between 7/11/2016 and 7/13/2016",
"From Monday, September 27th to Thursday, September 30th", "between 8:15 AM and 11:15 AM Pacific
Time", "began roughly 00:53 UTC ... resolved around 04:07 UTC", "Since about 08:30 UTC".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

from psgdiag.pipeline.when import ENGLISH_MONTHS as _MONTHS

UTC = dt.UTC
# Years a heading may carry: a typo such as "204" is repaired from the neighbours; 1/1/0001 or
# 12/31/9999 is no date (its window would run off the calendar).
MIN_YEAR, MAX_YEAR = 100, 9000
# Python's \s on str (str.isspace), spelled for RE2, whose own \s is ASCII only.
_SPACE = r"\t-\r\x1c-\x20\x85\xa0\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}"


def linear(pattern: str, needs: str = "", *, fold: bool = False) -> Linear:
    r"""Compile a pattern with RE2: linear time on any input, whatever a page holds.

    The status page comes from the network; Python's backtracking engine takes minutes on a
    3 KB line of spaces against patterns like `\s*(.*?)\s*`. \s keeps Python's meaning.
    `needs`: a literal every match contains (lower case with fold), checked first.
    """
    import re2

    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        pair = pattern[i : i + 2]
        if pair == r"\s":
            out.append(_SPACE if in_class else f"[{_SPACE}]")
            i += 2
            continue
        if pair[:1] == "\\":
            out.append(pair)
            i += 2
            continue
        in_class = (in_class or pair[:1] == "[") and not (in_class and pair[:1] == "]")
        out.append(pattern[i])
        i += 1
    options = re2.Options()
    options.log_errors = False
    return Linear(re2.compile("".join(out), options), needs, fold)


class Linear:
    """An RE2 pattern behind a literal pre-check: text without `needs` never reaches RE2.

    RE2 is linear, but its Python binding costs microseconds per call, and most lines of a
    page hold none of the literals a pattern needs.
    """

    def __init__(self, regex: Any, needs: str, fold: bool) -> None:
        self.regex, self.needs, self.fold = regex, needs, fold

    def _absent(self, text: str) -> bool:
        return bool(self.needs) and self.needs not in (text.lower() if self.fold else text)

    def match(self, text: str) -> Any:
        """As re.Pattern.match."""
        return None if self._absent(text) else self.regex.match(text)

    def search(self, text: str, pos: int = 0) -> Any:
        """As re.Pattern.search."""
        return None if self._absent(text) else self.regex.search(text, pos)

    def finditer(self, text: str) -> Iterator[Any]:
        """As re.Pattern.finditer."""
        return iter(()) if self._absent(text) else self.regex.finditer(text)

    def sub(self, repl: str, text: str) -> str:
        """As re.Pattern.sub."""
        return text if self._absent(text) else str(self.regex.sub(repl, text))


# The gallery team works in Redmond: a date-only end is widened to the end of the Pacific day.
PACIFIC_SLACK = dt.timedelta(hours=8)

_MON = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ZONE = r"UTC|GMT|PST|PDT|EST|EDT|CET|CEST|Pacific(?:\s+Time)?"
_FIXED = {"utc": 0, "gmt": 0, "pst": -8, "pdt": -7, "est": -5, "edt": -4, "cet": 1, "cest": 2}
_TIME = r"(\d{1,2})(?::(\d\d))?(?::\d\d)?\s*([ap]\.?m\.?)?"

_H_NUM = linear(r"^(\d{1,2})[/-](\d{1,2})[/-](\d{2,4})\b")
_H_NAME = linear(rf"(?i)^({_MON})\.?\s+(\d{{1,2}})(?:[a-z]{{2}})?\b,?\s*(\d{{2,4}})?\b")
_H_TIME = linear(rf"(?i)^[,\s]*(\d{{1,2}}):(\d\d)\s*({_ZONE})\b")
_WEEKDAY = r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?"
_D_EXPR = (
    rf"{_WEEKDAY}(?:\d{{1,2}}/\d{{1,2}}/\d{{2,4}}"
    rf"|(?:{_MON})\.?\s+\d{{1,2}}(?:[a-z]{{2}})?(?:,?\s*\d{{4}})?)"
)
_RANGE = linear(rf"(?i)\b(?:between|from)\s+({_D_EXPR})\s+(?:and|to|until|-)\s+({_D_EXPR})")
_CLOCK_RANGE = linear(
    rf"(?i)\b{_TIME}\s*\(?(?:{_ZONE})?\)?\s*(?:-|–|to|and|until)\s*{_TIME}\s*\(?({_ZONE})\)?"
)
_CLOCK_FROM = linear(
    rf"(?i)\b(?:since|began|beginning|starting|started|as of)\s+(?:at\s+)?"
    rf"(?:about|approximately|roughly|around)?\s*{_TIME}\s*\(?({_ZONE})\)?"
)
_CLOCK_TO = linear(
    rf"(?i)\b(?:resolved|restored|mitigated|back up)\s+(?:at\s+)?"
    rf"(?:about|approximately|roughly|around)?\s*{_TIME}\s*\(?({_ZONE})\)?"
)


def day_start(day: dt.date) -> dt.datetime:
    """Return 00:00 UTC of a calendar day."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC)


def day_end(day: dt.date) -> dt.datetime:
    """Return the end of a date-only day, widened to the end of that day in US Pacific time."""
    return day_start(day) + dt.timedelta(days=1, seconds=-1) + PACIFIC_SLACK


def _year(text: str | None, default: int) -> int:
    if not text:
        return default
    y = int(text)
    return 2000 + y if len(text) == 2 else y


def _date(y: int, m: int, d: int) -> dt.date | None:
    if not MIN_YEAR <= y <= MAX_YEAR:
        return None
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def _pacific_offset(day: dt.date) -> int:
    """US Pacific: PDT (-7) from the second Sunday of March to the first Sunday of November."""
    march = dt.date(day.year, 3, 8)
    dst_on = march + dt.timedelta(days=(6 - march.weekday()) % 7)
    nov = dt.date(day.year, 11, 1)
    dst_off = nov + dt.timedelta(days=(6 - nov.weekday()) % 7)
    return -7 if dst_on <= day < dst_off else -8


def offset_hours(zone: str, day: dt.date) -> int:
    """Return the UTC offset of a zone name as the status page writes it."""
    z = zone.lower().strip()
    return _pacific_offset(day) if z.startswith("pacific") else _FIXED.get(z, 0)


def _clock(day: dt.date, h: str, m: str | None, ampm: str | None, zone: str) -> dt.datetime | None:
    hour, minute = int(h), int(m or 0)
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm.lower().startswith("p") else 0)
    if hour > 23 or minute > 59:
        return None
    local = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
    return local - dt.timedelta(hours=offset_hours(zone, day))


def heading_date(heading: str) -> tuple[dt.date, dt.datetime | None, str] | None:
    """Return (date, exact UTC time or None, title) for a status heading, or None."""
    m = _H_NUM.match(heading)
    if m:
        y, a, b = _year(m.group(3), 0), int(m.group(1)), int(m.group(2))
        # US month/day; a localized copy writes day/month, which shows when the "month" > 12
        day = _date(y, b, a) if a > 12 >= b else _date(y, a, b)
    else:
        m = _H_NAME.match(heading)
        if not m or not m.group(3):
            return None
        day = _date(_year(m.group(3), 0), _MONTHS[m.group(1).lower()], int(m.group(2)))
    if day is None:
        return None
    rest = heading[m.end() :]
    when = None
    t = _H_TIME.match(rest)
    if t:
        when = _clock(day, t.group(1), t.group(2), None, t.group(3))
        rest = rest[t.end() :]
    title = re.sub(r"^[\s,:\-–]+", "", rest).strip()
    title = re.sub(r"^resolved\s*:\s*", "", title, flags=re.IGNORECASE)
    return day, when, title


def parse_day(text: str, default_year: int) -> dt.date | None:
    """Parse one date expression of a body range (year from the heading when missing)."""
    text = re.sub(rf"^{_WEEKDAY}", "", text.strip(), flags=re.IGNORECASE)
    m = re.match(r"(\d{1,2})/(\d{1,2})/(\d{2,4})", text)
    if m:
        return _date(_year(m.group(3), default_year), int(m.group(1)), int(m.group(2)))
    m = re.match(rf"({_MON})\.?\s+(\d{{1,2}})(?:[a-z]{{2}})?(?:,?\s*(\d{{4}}))?", text, re.I)
    if m:
        mon = _MONTHS[m.group(1).lower()]
        return _date(_year(m.group(3), default_year), mon, int(m.group(2)))
    return None


def body_range(prose: str, heading: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
    """Return the window of a "Between A and B" / "From A to B" sentence, if any."""
    for m in _RANGE.finditer(prose):
        a, b = parse_day(m.group(1), heading.year), parse_day(m.group(2), heading.year)
        if a is not None and b is not None and a <= b and (b - a).days <= 62:
            return day_start(a), day_end(b)
    return None


def body_clock(prose: str, day: dt.date) -> tuple[dt.datetime, dt.datetime | None] | None:
    """Return (start, end or None) from clock times in the body, on the heading's day."""
    m = _CLOCK_RANGE.search(prose)
    if m:
        zone = m.group(7)
        start = _clock(day, m.group(1), m.group(2), m.group(3) or m.group(6), zone)
        end = _clock(day, m.group(4), m.group(5), m.group(6), zone)
        if start is not None and end is not None:
            return start, end if end >= start else end + dt.timedelta(days=1)
    f = _CLOCK_FROM.search(prose)
    if f is None:
        return None
    start = _clock(day, f.group(1), f.group(2), f.group(3), f.group(4))
    if start is None:
        return None
    t = _CLOCK_TO.search(prose, f.end())
    end = _clock(day, t.group(1), t.group(2), t.group(3), t.group(4)) if t else None
    if end is not None and end < start:
        end += dt.timedelta(days=1)
    return start, end
