"""The words of written dates, from data/dates.toml: month and weekday names by language, the
words allowed inside a day-month-year date, CJK date marks, relative day phrases and mail-header
labels.

Loaded on first use (a paste without a written year never needs them), then kept for the run.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from psgdiag.cache import data_toml
from psgdiag.record import record


@record
class Relative:
    """A phrase such as "yesterday evening": a day offset from the anchor and local hours."""

    phrase: str
    days: int
    first_hour: int
    last_hour: int  # exclusive; may pass 24 ("last night" runs to 06:00 = 30)


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    return data_toml("dates.toml")


@lru_cache(maxsize=2)
def months(english_only: bool = False) -> dict[str, int]:
    """Return month name or abbreviation -> month number (English only, or every language)."""
    out: dict[str, int] = {}
    for lang, table in _table()["months"].items():
        if english_only and lang != "en":
            continue
        for number, names in enumerate(table, 1):
            for name in names:
                out.setdefault(str(name), number)
    return out


@lru_cache(maxsize=1)
def weekdays() -> dict[str, int]:
    """Return weekday name or abbreviation -> weekday number (Monday 0), every language."""
    out: dict[str, int] = {}
    for table in _table().get("weekdays", {}).values():
        for number, names in enumerate(table):
            for name in names:
                out.setdefault(str(name), number)
    return out


def alternation(words: list[str] | dict[str, Any]) -> str:
    """Return a regex alternation of the words, longest first (so "sept" wins over "sep")."""
    return "|".join(re.escape(w) for w in sorted(words, key=lambda w: (-len(w), w)))


@lru_cache(maxsize=2)
def month_pattern(english_only: bool = False) -> str:
    """Return the month names as one regex alternation (no group), longest first."""
    return alternation(months(english_only))


def joiners() -> tuple[str, ...]:
    """Return the words allowed between day, month and year ("12 de julio de 2016")."""
    return tuple(str(w) for w in _table().get("date_joiners", []))


def cjk_marks() -> tuple[tuple[str, str, str], ...]:
    """Return (year, month, day) marks of CJK dates such as 2016年7月12日."""
    return tuple((str(a), str(b), str(c)) for a, b, c in _table().get("cjk_marks", []))


@lru_cache(maxsize=1)
def relatives() -> tuple[Relative, ...]:
    """Return every relative day phrase, longest first."""
    out = [
        Relative(str(p).lower(), int(item["days"]), int(item["hours"][0]), int(item["hours"][1]))
        for item in _table().get("relative", [])
        for p in item["phrases"]
    ]
    return tuple(sorted(out, key=lambda r: (-len(r.phrase), r.phrase)))


@lru_cache(maxsize=1)
def anchor_labels() -> frozenset[str]:
    """Return the labels of a pasted mail header that carries the send date."""
    return frozenset(str(w).lower() for w in _table().get("anchor_labels", []))


def zone_offsets() -> dict[str, float]:
    """Return zone abbreviations with a fixed UTC offset in hours ("pst" -> -8)."""
    return {str(k): float(v) for k, v in _table().get("zones", {}).items()}


def zone_names() -> dict[str, str]:
    """Return zone names written in prose -> IANA zone ("pacific time" -> America/Los_Angeles)."""
    return {str(k): str(v) for k, v in _table().get("zone_names", {}).items()}
