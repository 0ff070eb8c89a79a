r"""Dates and clock times as the status page writes them, turned into UTC.

Headings: `7/13/2016 - Title`, `5/17/2016 - 5/19/2016 Title`, `06/03/2021 02:28 UTC Title`,
`May 2nd, 2022 16:41 UTC Title`, `March 14th 2025, Title`, `Jan 26th - Feb 6th 2026, Title`,
`2 February 2026 - Title`. Ordinal typos ("14nd") are accepted; a heading without a year gets
year 1 and an odd one ("204") is kept: the caller repairs both from the neighbouring entries.

Zones come from data/dates.toml: abbreviations have a fixed offset ("PST" is UTC-8 even in
July, as written); names with daylight saving ("Pacific Time") go through zoneinfo.

The page comes from the network: every pattern of the status-page parser (here, in statusprose
and statuspage) is compiled by `linear` (RE2, time linear in the text, whatever a hostile page
holds; `\s` keeps Python's meaning) behind a literal pre-check where every match holds one.
Years outside MIN_YEAR..MAX_YEAR are no dates: their windows would run off the calendar.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from psgdiag.pipeline import datewords
from psgdiag.record import record

UTC = dt.UTC
# The gallery team works in Redmond: a date-only end is widened to the end of the Pacific day
# (the widest Pacific offset, so the window holds in summer and in winter).
PACIFIC_SLACK = dt.timedelta(hours=8)
NO_YEAR = 1  # the year of a heading that names none, until the neighbours supply it
MAX_RANGE_DAYS = 62  # a written range longer than this is not an incident window
# Years a heading may carry: a typo such as "204" is repaired from the neighbours; 1/1/0001 or
# 12/31/9999 is no date (its window would run off the calendar).
MIN_YEAR, MAX_YEAR = 100, 9000
# Python's \s on str (str.isspace), spelled for RE2, whose own \s is ASCII only.
_SPACE = r"\t-\r\x1c-\x20\x85\xa0\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}"


@record
class Day:
    """A date as written: the year may be missing (None) and is filled in by context."""

    year: int | None
    month: int
    day: int


@record
class HeadingDate:
    """What a heading says about when: its day, the end day of a range, an exact time, a title."""

    day: dt.date
    end_day: dt.date | None
    time: dt.datetime | None
    title: str


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

    def match(self, text: str, pos: int = 0) -> Any:
        """As re.Pattern.match."""
        return None if self._absent(text) else self.regex.match(text, pos)

    def search(self, text: str, pos: int = 0) -> Any:
        """As re.Pattern.search."""
        return None if self._absent(text) else self.regex.search(text, pos)

    def finditer(self, text: str) -> Iterator[Any]:
        """As re.Pattern.finditer."""
        return iter(()) if self._absent(text) else self.regex.finditer(text)

    def sub(self, repl: str, text: str) -> str:
        """As re.Pattern.sub."""
        return text if self._absent(text) else str(self.regex.sub(repl, text))


@lru_cache(maxsize=64)
def rx(pattern: str, needs: str = "") -> Linear:
    """`linear`, case-insensitive (`needs` in lower case), kept for the run."""
    return linear("(?i)" + pattern, needs, fold=True)


def _mon() -> str:
    return datewords.month_pattern(english_only=True)


ORDINAL = r"(?:st|nd|rd|th|[a-z]{2})?"
WEEKDAY = r"(?:(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\.?,?\s+)?"


@lru_cache(maxsize=1)
def zone_pattern() -> str:
    """The zone names and abbreviations of data/dates.toml as one alternation."""
    names = list(datewords.zone_offsets()) + list(datewords.zone_names())
    return datewords.alternation(names).replace(r"\ ", r"\s+")


def day_start(day: dt.date) -> dt.datetime:
    """Return 00:00 UTC of a calendar day."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC)


def day_end(day: dt.date) -> dt.datetime:
    """Return the end of a date-only day, widened to the end of that day in US Pacific time."""
    return day_start(day) + dt.timedelta(days=1, seconds=-1) + PACIFIC_SLACK


def make_date(year: int | None, month: int, day: int) -> dt.date | None:
    """Return the date, or None when it does not exist (a missing year becomes NO_YEAR; a
    written one outside MIN_YEAR..MAX_YEAR is no date)."""
    if year is not None and not MIN_YEAR <= year <= MAX_YEAR:
        return None
    try:
        return dt.date(NO_YEAR if year is None else year, month, day)
    except ValueError:
        return None


def year_of(text: str | None) -> int | None:
    """Read a written year: two digits are 20xx; three ("204") are kept for the repair step."""
    if not text:
        return None
    return 2000 + int(text) if len(text) == 2 else int(text)


def to_utc(local: dt.datetime, zone: str) -> dt.datetime | None:
    """Convert a wall-clock time in a written zone to UTC (None: zone unknown or no zone data)."""
    key = " ".join(zone.lower().strip("() ").split())
    fixed = datewords.zone_offsets().get(key)
    if fixed is not None:
        try:
            return (local - dt.timedelta(hours=fixed)).replace(tzinfo=UTC)
        except OverflowError:
            return None  # 00:30 CET on 1 January of NO_YEAR: before the calendar's first day
    name = datewords.zone_names().get(key) or (zone if "/" in zone else None)
    if name is None:
        return None
    import zoneinfo

    try:
        tz = zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None  # no zone data on this machine (Windows without the tzdata package)
    try:
        return local.replace(tzinfo=tz).astimezone(UTC)
    except OverflowError:
        return None


def clock(day: dt.date, hour: int, minute: int, ampm: str | None, zone: str) -> dt.datetime | None:
    """Return a clock time of a day in a zone as UTC; None for an impossible time."""
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm.lower().startswith("p") else 0)
    if hour == 24 and minute == 0:  # midnight at the end of the day
        day, hour = day + dt.timedelta(days=1), 0
    if hour > 23 or minute > 59:
        return None
    return to_utc(dt.datetime(day.year, day.month, day.day, hour, minute), zone)


@lru_cache(maxsize=1)
def _date_patterns() -> tuple[Linear, ...]:
    mon = _mon()
    return (
        rx(r"(\d{1,2})[/-](\d{1,2})[/-](\d{2,4})\b"),
        rx(r"(\d{4})-(\d{1,2})-(\d{1,2})\b"),
        rx(rf"{WEEKDAY}({mon})\.?\s+(\d{{1,2}}){ORDINAL}\b"),
        rx(rf"(\d{{1,2}}){ORDINAL}\.?\s+(?:of\s+)?({mon})\b\.?"),
    )


_YEAR_AFTER = r"[ \t]*,?[ \t]*(\d{4}|\d{2,3}\b)"


def date_at(text: str, pos: int) -> tuple[Day, int] | None:
    """Read one written date starting exactly at `pos`; return it and where it ends."""
    num, iso, named, dmy = _date_patterns()
    # Each form starts with an ASCII digit or with none: only those forms are tried (each try
    # costs a call into RE2).
    digit = "0" <= text[pos : pos + 1] <= "9"
    m = num.match(text, pos) if digit else None
    if m:
        a, b, year = int(m.group(1)), int(m.group(2)), year_of(m.group(3))
        # US month/day; a localized copy writes day/month, which shows when the "month" > 12
        month, day = (b, a) if a > 12 >= b else (a, b)
        return Day(year, month, day), m.end()
    m = iso.match(text, pos) if digit else None
    if m:
        return Day(int(m.group(1)), int(m.group(2)), int(m.group(3))), m.end()
    months = datewords.months(english_only=True)
    m = None if digit else named.match(text, pos)
    if m:
        month, day = months[m.group(1).lower()], int(m.group(2))
    else:
        m = dmy.match(text, pos) if digit else None
        if not m:
            return None
        month, day = months[m.group(2).lower()], int(m.group(1))
    end = m.end()
    y = rx(_YEAR_AFTER).match(text, end)
    if y and not (len(y.group(1)) == 2 and text.startswith(":", y.end())):  # "May 2nd 16:41"
        return Day(year_of(y.group(1)), month, day), y.end()
    return Day(None, month, day), end


def _range_end(text: str, pos: int, first: Day) -> tuple[Day, int] | None:
    """The second half of a heading range: a full date, or a day of the same month."""
    sep = rx(r"\s*(?:-|–|—|to\b|through\b|until\b)\s*").match(text, pos)
    if not sep:
        return None
    found = date_at(text, sep.end())
    if found is not None:
        return found
    d = rx(r"(\d{1,2})(?:st|nd|rd|th)\b").match(text, sep.end())
    if not d:
        return None
    y = rx(_YEAR_AFTER).match(text, d.end())
    year = year_of(y.group(1)) if y else None
    return Day(year, first.month, int(d.group(1))), y.end() if y else d.end()


def resolve_years(first: Day, second: Day | None) -> tuple[dt.date, dt.date | None] | None:
    """Give a range's halves each other's year ("Jan 26th - Feb 6th 2026"); None if invalid."""
    if second is None:
        start = make_date(first.year, first.month, first.day)
        return (start, None) if start is not None else None
    y1, y2 = first.year, second.year
    if y1 is None and y2 is not None:
        y1 = y2 - 1 if (first.month, first.day) > (second.month, second.day) else y2
    elif y2 is None and y1 is not None:
        y2 = y1 + 1 if (second.month, second.day) < (first.month, first.day) else y1
    start, end = make_date(y1, first.month, first.day), make_date(y2, second.month, second.day)
    if start is None:
        return None
    if end is None or not 0 <= (end - start).days <= MAX_RANGE_DAYS:
        return start, None
    return start, end


def heading_date(heading: str) -> HeadingDate | None:
    """Return what a status heading says about its date, or None when it starts with none."""
    found = date_at(heading, 0)
    if found is None:
        return None
    first, pos = found
    second = _range_end(heading, pos, first)
    days = resolve_years(first, second[0] if second else None)
    if days is None:
        return None
    start, end = days
    if end is not None and second is not None:
        pos = second[1]
    when = None
    t = rx(rf"[,\s]*(\d{{1,2}}):(\d\d)\s*([ap])?\.?m?\.?\s*\(?({zone_pattern()})\b\)?").match(
        heading, pos
    )
    if t:
        when = clock(start, int(t.group(1)), int(t.group(2)), t.group(3), t.group(4))
        pos = t.end()
    rest = heading[pos:]
    title = rest.lstrip(" \t,:;-–—").strip()
    low = title.lower()
    if low.startswith("resolved") and low[8:].lstrip().startswith(":"):
        title = title[8:].lstrip()[1:].strip()
    return HeadingDate(start, end, when, title)
