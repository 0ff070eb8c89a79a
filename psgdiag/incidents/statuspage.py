"""Parse the PowerShell Gallery status page (Markdown) into Incident records.

Two layouts exist: the 2016 docs page (`## 7/13/2016 - Title`, `__Summary of Impact__`,
"Between 7/11/2016 and 7/13/2016") and the PowerShell/PowerShellGallery page (`### May 2nd, 2022
16:41 UTC Title`, `__Status: Resolved__`, entries without any end, a "History of previous issues"
section). Headings carry typos ("June 14nd", "January 13th 204", wrong years): a year that breaks
the page's newest-first order is repaired from its neighbours. Causes and kind of an entry come
from data/status_keywords.toml; an entry matching a bundled incident keeps the bundled id.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from psgdiag import regexcode
from psgdiag.cache import data_toml
from psgdiag.incidents import statusdates as sd
from psgdiag.incidents import statusprose
from psgdiag.model import Incident
from psgdiag.record import field, record, replace

# RE2 (linear time): the page comes from the network; see statusdates.linear. The Status line
# is read by status_of() with string methods.
_HEADING = sd.linear(r"^(#{2,4})\s+(.*?)\s*#*\s*$", "##")
_SECTION = sd.linear(r"^\s*__([A-Za-z ]+?)__\s*:?\s*(.*)$", "__")
_LINK = sd.linear(r"\[([^\]]*)\]\([^)]*\)", "](")
_FENCE = regexcode.compile(r"^\s*```")  # one quantifier, anchored: linear in Python's engine too
_TAG = sd.linear(r"<[^<>]{0,400}>", "<")  # anchors and spans of the localized docs copies
_SECTION_KEYS = {
    "summary of impact": "summary",
    "root cause": "root_cause",
    "preliminary root cause": "root_cause",
    "resolution": "resolution",
    "mitigation": "resolution",
    "next steps": "next_steps",
}
# A section keeps at most this much text: a `+=` per line is quadratic on a hostile page. The
# summary shown is 600 characters; only text past the cap no longer counts for the kind, the
# causes and the window.
_SECTION_CAP = 4000
# The prose of a whole page is read for windows up to this many tokens (statusprose: dates, times,
# cue words, dashes, sentence ends; each costs 20-100 microseconds, and a 1 MiB page could hold
# 500,000). The real page has 618, at most 31 an entry. Past the budget an entry's window comes
# from its heading and Status line only, and a warning names the line.
PAGE_TOKENS = 4000


@record(frozen=False)
class Entry:
    """One dated heading of the page and the text under it."""

    line: int
    heading: str
    date: dt.date
    time: dt.datetime | None
    title: str
    end_day: dt.date | None = None
    status: str = ""  # the state the entry's Status line gives: resolved | ongoing | mitigating
    sections: dict[str, str] = field(default_factory=dict)
    body: list[str] = field(default_factory=list)
    free: list[str] = field(default_factory=list)  # text before the first __Section__


@record(frozen=False)
class _Reading:
    """What is left of the page's token budget, and the warnings about what was not read."""

    warnings: list[str]
    left: int = PAGE_TOKENS
    spent: bool = False  # the page's budget ran out (said once)

    def spend(self, e: Entry, got: statusprose.Window) -> None:
        limit, self.left = self.left, max(0, self.left - got.tokens)
        if not got.cut:
            return
        page_ran_out = limit < statusprose.MAX_TOKENS and got.tokens >= limit  # not the entry's cap
        if page_ran_out:
            if not self.spent:
                self.spent = True
                self.warnings.append(
                    f"line {e.line}: the page holds more than {PAGE_TOKENS} dates, times and "
                    "words to read for windows; from this entry on, windows come from the headings"
                )
        elif got.tokens >= statusprose.MAX_TOKENS:
            self.warnings.append(
                f"line {e.line}: only the first {got.tokens} dates, times and words of the "
                "entry were read for its window"
            )
        else:
            self.warnings.append(
                f"line {e.line}: only the first {statusprose.MAX_PROSE} characters of the entry "
                "were read for its window"
            )


@record
class ParseResult:
    """Incidents parsed from a page, plus warnings about what was skipped or repaired."""

    incidents: tuple[Incident, ...]
    warnings: tuple[str, ...]


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    return data_toml("status_keywords.toml")


def _rules() -> list[dict[str, Any]]:
    return list(_table().get("rule", []))


def _stop_words() -> frozenset[str]:
    return frozenset(_table().get("slug_stop", []))


def classify_full(text: str) -> tuple[str, tuple[str, ...], str]:
    """Return (kind, causes, impact) for an entry's title + summary, from the keyword table."""
    low = text.lower()
    kind = impact = ""
    causes: list[str] = []
    for rule in _rules():
        if not any(p.lower() in low for p in rule.get("any", [])):
            continue
        kind = kind or str(rule.get("kind", ""))
        impact = impact or str(rule.get("impact", ""))
        causes.extend(c for c in rule.get("causes", []) if c not in causes)
        if rule.get("stop"):
            break
    kind = kind or "incident"
    if not impact:
        impact = ("Y" if kind == "outage" else "P") if causes else "N"
    return kind, tuple(causes), impact


def classify(text: str) -> tuple[str, tuple[str, ...]]:
    """Return (kind, causes) for an entry's title + summary, from the keyword table."""
    kind, causes, _impact = classify_full(text)
    return kind, causes


def status_of(line: str) -> str | None:
    """Return the state a `__Status: ...__` line gives (resolved / ongoing / mitigating, or the
    text itself when no word of the table is in it); None when the line is no status line."""
    text = line.strip().strip("_*").strip()
    if text[:6].lower() != "status":
        return None
    rest = text[6:].lstrip()
    if not rest.startswith(":"):
        return None
    said = " ".join(rest[1:].strip().strip("_*").lower().split())[:300]
    for state, words in _table().get("status", {}).items():
        if any(w in said for w in words):
            return str(state)
    return said


def _split(text: str, warnings: list[str]) -> list[Entry]:
    entries: list[Entry] = []
    current: Entry | None = None
    in_fence = False
    section = ""
    for no, raw in enumerate(text.splitlines(), 1):
        if _FENCE.match(raw):
            in_fence = not in_fence
        h = None if in_fence else _HEADING.match(raw)
        if h:
            heading = _TAG.sub("", _LINK.sub(r"\1", h.group(2))).replace("__", "").strip()
            found = sd.heading_date(heading)
            if found is None:
                current = None
                if not re.search(r"status|history|previous", heading, re.IGNORECASE):
                    warnings.append(f"line {no}: heading without a date skipped: {heading!r}")
                continue
            current = Entry(no, heading, found.day, found.time, found.title, found.end_day)
            entries.append(current)
            section = ""
            continue
        if current is None:
            continue
        state = None if in_fence else status_of(raw)
        if state is not None:
            current.status = state
            continue
        if in_fence or _FENCE.match(raw):  # quoted output: kept, but no prose to date from
            current.body.append(raw)
            continue
        sec = _SECTION.match(raw)
        if sec and sec.group(1).strip().lower() in _SECTION_KEYS:
            section = _SECTION_KEYS[sec.group(1).strip().lower()]
            current.sections[section] = sec.group(2).strip()
            continue
        if section and not in_fence and raw.strip():
            if len(current.sections[section]) < _SECTION_CAP:
                current.sections[section] = (current.sections[section] + " " + raw.strip()).strip()
        elif not section and not _FENCE.match(raw):
            current.free.append(raw.strip())
        current.body.append(raw)
    return entries


def _repair_years(entries: list[Entry], warnings: list[str]) -> None:
    """Fix a heading year that breaks the newest-first order, using the neighbours' years."""
    for i, e in enumerate(entries):
        newer = entries[i - 1].date if i > 0 else None
        older = entries[i + 1].date if i + 1 < len(entries) else None
        ordered = (newer is None or e.date <= newer) and (older is None or e.date >= older)
        if ordered and e.date.year >= 1990:
            continue
        for year in sorted({d.year for d in (newer, older) if d is not None}):
            try:
                fixed = e.date.replace(year=year)
            except ValueError:
                continue
            if (newer is None or fixed <= newer) and (older is None or fixed >= older):
                warnings.append(f"line {e.line}: year {e.date.year} read as {year} ({e.heading!r})")
                if e.time is not None:
                    e.time = e.time.replace(year=year)
                if e.end_day is not None:
                    e.end_day = _shift_year(e.end_day, year - e.date.year)
                e.date = fixed
                break


def _dated(entries: list[Entry], warnings: list[str]) -> list[Entry]:
    """Drop the entries still without a year after the repair (no neighbour gave one): year 1
    is no date, its window would run off the calendar."""
    for e in entries:
        if e.date.year < sd.MIN_YEAR:
            warnings.append(f"line {e.line}: heading without a year skipped: {e.heading!r}")
    return [e for e in entries if e.date.year >= sd.MIN_YEAR]


def _shift_year(day: dt.date, years: int) -> dt.date | None:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return None


def _window(e: Entry, reading: _Reading) -> tuple[dt.datetime, dt.datetime | None, str]:
    """Start, end (None when the text gives none) and certainty `start/end` (C, A or ?)."""
    prose = ". ".join([e.title, "\n".join(e.free), *e.sections.values()])
    start = e.time or sd.day_start(e.date)
    end = sd.day_end(e.end_day) if e.end_day is not None else None
    sure_start, sure_end = ("C" if e.time or e.end_day else "A"), "C"
    got = statusprose.window(prose, e.date, e.time, limit=reading.left)
    reading.spend(e, got)
    if got.start is not None and not (e.end_day and got.start.date() == e.date):
        start, sure_start = got.start, "A" if got.start_approx else "C"
    if got.end is not None and (end is None or got.end.date() != end.date()):
        end, sure_end = got.end, "A" if got.end_approx else "C"
    if end is not None and end < start:
        end = None
    return start, end, f"{sure_start}/{sure_end if end is not None else '?'}"


def _assumed(
    e: Entry, start: dt.datetime, end: dt.datetime | None
) -> tuple[dt.datetime | None, str]:
    """The assumed end of an entry without a written one, and why (data/status_keywords.toml)."""
    if end is not None or e.status in ("ongoing", "mitigating"):
        return None, ""
    rule = _table().get("assumed", {})
    if e.status == "resolved":
        days = int(rule.get("resolved_days", 1))
        until = sd.day_start(start.date()) + dt.timedelta(days=days + 1, seconds=-1)
        return until, str(rule.get("resolved_reason", ""))
    return start + dt.timedelta(days=int(rule.get("unknown_days", 7))), str(
        rule.get("unknown_reason", "")
    )


def _slug(title: str) -> str:
    words = [w for w in re.findall(r"[a-z0-9]+", title.lower()) if w not in _stop_words()]
    return "-".join(words[:3]) or "entry"


def _words(title: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]{3,}", title.lower()) if w not in _stop_words()}


def match_score(parsed: Incident, known: Incident) -> int:
    """How well a parsed entry fits a known incident (0: not the same incident)."""
    day = dt.timedelta(days=1)
    same_day = abs(parsed.start.date() - known.start.date()) <= day
    inside = not known.permanent and known.start - day <= parsed.start - day <= known.window_end
    shared = set(parsed.causes) & set(known.causes)
    if not (same_day or (inside and shared)):
        return 0
    if not shared and parsed.causes and known.causes:
        return 0  # same day, but about different failures
    score = int(same_day) + 3 * bool(shared) + int(parsed.kind == known.kind)
    score += 2 * (not parsed.causes and not known.causes)
    return score + len(_words(parsed.title) & _words(known.title))


def _assign(parsed: Sequence[Incident], known: Sequence[Incident]) -> dict[int, str]:
    """Pair parsed entries with known incidents, best fits first, each used once."""
    pairs = sorted(
        ((match_score(p, k), i, k.id) for i, p in enumerate(parsed) for k in known),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    out: dict[int, str] = {}
    taken: set[str] = set()
    for score, i, kid in pairs:
        if score <= 0:
            break
        if i not in out and kid not in taken:
            out[i] = kid
            taken.add(kid)
    return out


def _to_incident(e: Entry, source: str, reading: _Reading) -> Incident:
    start, end, certainty = _window(e, reading)
    if not e.title:
        e.title = next((ln.strip() for ln in e.body if ln.strip()), e.heading)[:100]
    free = " ".join(line for line in e.free if line)
    kind, causes, impact = classify_full(
        " ".join([e.title, free, e.sections.get("summary", ""), e.sections.get("root_cause", "")])
    )
    if kind == "incident" and not e.sections and re.search(r"\bdown\b", e.title, re.IGNORECASE):
        kind = "outage"
    assumed, reason = _assumed(e, start, end)
    summary = e.sections.get("summary") or free
    workaround = " ".join(
        v for k, v in e.sections.items() if k in ("resolution", "next_steps") and v
    )
    return Incident(
        id=f"INC-{start:%Y-%m-%d}-{_slug(e.title)}",
        title=e.title,
        start=start,
        end=end,
        kind=kind,
        impact=impact,
        causes=causes,
        certainty=certainty,
        summary=summary[:600],
        root_cause=e.sections.get("root_cause", "")[:600],
        workaround=workaround[:600],
        sources=(f"{source} line {e.line}",) if source else (),
        end_assumed=assumed,
        state=e.status if e.status in ("resolved", "ongoing", "mitigating") else "",
        end_reason=reason,
    )


def parse(
    text: str,
    *,
    source: str = "",
    known: Sequence[Incident] = (),
    now: dt.datetime | None = None,
) -> ParseResult:
    """Parse status-page Markdown; entries matching a `known` incident take its id.

    `now` (the fetch time) is accepted for callers but no longer used: an entry the page calls
    ongoing is open-ended, not "ongoing until the fetch".
    """
    del now
    warnings: list[str] = []
    entries = _split(text, warnings)
    _repair_years(entries, warnings)
    entries = _dated(entries, warnings)
    reading = _Reading(warnings)
    parsed = [_to_incident(e, source, reading) for e in entries]
    assigned = _assign(parsed, known)
    out: list[Incident] = []
    used: set[str] = set(assigned.values())
    for i, inc in enumerate(parsed):
        new_id = assigned.get(i)
        if new_id is None:
            new_id, n = inc.id, 2
            while new_id in used:
                new_id, n = f"{inc.id}-{n}", n + 1
            used.add(new_id)
        out.append(replace(inc, id=new_id))
    out.sort(key=lambda i: (i.start, i.id))
    return ParseResult(tuple(out), tuple(warnings))
