"""A day and month written without a year, dated by its weekday inside the paste's era.

"Since this morning (Thursday 1 September)" names no year, but 1 September fell on a Thursday
only in 2016, 2022 and 2033. When the clients and platforms the paste names (its era,
pipeline/era.py) leave exactly one of those years possible, the phrase dates the failure to that
local day; when they leave none or several, it says nothing.
"""

from __future__ import annotations

import datetime as dt
import re

from psgdiag import regexcode
from psgdiag.model import Document, Era, TimeRange
from psgdiag.pipeline import datewords
from psgdiag.pipeline.whenprose import DAY, Lazy, local_range, month_number, safe_date

_WORD = regexcode.compile(r"[^\W\d_]+")
_ORD = r"(?:st|nd|rd|th|er)?\.?"
_DAY_FIRST = Lazy(
    lambda: (
        rf"\b(?P<wd>{_weekday()}),?\s+(?:the\s+)?(?:(?:le|el|den|am)\s+)?(?P<d>\d{{1,2}}){_ORD}\s+"
        rf"(?:(?:of|de)\s+)?(?P<m>{datewords.month_pattern()})\b\.?(?!,?\s*(?:de\s+)?\d)"
    ),
    re.IGNORECASE,
)
_MONTH_FIRST = Lazy(
    lambda: (
        rf"\b(?P<wd>{_weekday()}),?\s+(?P<m>{datewords.month_pattern()})\.?\s+"
        rf"(?P<d>\d{{1,2}}){_ORD}(?!\d|,?\s*\d)"
    ),
    re.IGNORECASE,
)


def _weekday() -> str:
    return datewords.alternation(datewords.weekdays())


def weekday_time(doc: Document, era: Era, today: dt.date | None = None) -> TimeRange | None:
    """The local day a year-less weekday date names, when the era leaves one year for it."""
    last = era.offered_until or today or dt.datetime.now(dt.UTC).date()
    names = datewords.weekdays()
    for line in doc.lines:
        text = line.text
        if not any(ch.isdigit() for ch in text):
            continue
        if not names.keys() & _WORD.findall(text.lower()):
            continue  # no weekday named: the patterns (costly to compile) are not needed
        for rx in (_DAY_FIRST, _MONTH_FIRST):
            m = rx.search(text)
            if m is None:
                continue
            weekday = names[m.group("wd").lower()]
            month, day = month_number(m.group("m")), int(m.group("d"))
            fits = [
                when
                for year in range(era.since.year, last.year + 1)
                if (when := safe_date(year, month, day)) is not None
                and era.since <= when.date() <= last
                and when.weekday() == weekday
            ]
            if len(fits) == 1:
                return local_range(fits[0], fits[0] + DAY, "prose-weekday", line.no, m.group(0))
            return None  # the first year-less date decides: a later one is not the failure's
    return None
