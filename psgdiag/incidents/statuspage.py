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

from psgdiag.cache import data_toml
from psgdiag.incidents import statusdates as sd
from psgdiag.model import Incident
from psgdiag.record import field, record, replace

# RE2 (linear time): the page comes from the network; see statusdates.linear.
_HEADING = sd.linear(r"^(#{2,4})\s+(.*?)\s*#*\s*$", "##")
_SECTION = sd.linear(r"^\s*__([A-Za-z ]+?)__\s*:?\s*(.*)$", "__")
_STATUS = sd.linear(r"(?i)^\s*(?:__)?Status:\s*([A-Za-z ]+?)\s*(?:__)?\s*$", "status:", fold=True)
_LINK = sd.linear(r"\[([^\]]*)\]\([^)]*\)", "](")
_FENCE = re.compile(r"^\s*```")  # one quantifier, anchored: linear in Python's engine too
_TAG = sd.linear(r"<[^<>]{0,400}>", "<")  # anchors and spans of the localized docs copies
_SECTION_KEYS = {
    "summary of impact": "summary",
    "root cause": "root_cause",
    "preliminary root cause": "root_cause",
    "resolution": "resolution",
    "mitigation": "resolution",
    "next steps": "next_steps",
}
_OPEN_DAYS = dt.timedelta(days=7)
# A section keeps at most this much text: a `+=` per line is quadratic on a hostile page. The
# summary shown is 600 characters and the body keeps every line for the window; only keywords
# past the cap no longer count for the kind and causes.
_SECTION_CAP = 4000


@record(frozen=False)
class Entry:
    """One dated heading of the page and the text under it."""

    line: int
    heading: str
    date: dt.date
    time: dt.datetime | None
    title: str
    status: str = ""
    sections: dict[str, str] = field(default_factory=dict)
    body: list[str] = field(default_factory=list)
    free: list[str] = field(default_factory=list)  # text before the first __Section__


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
            day, when, title = found
            current = Entry(no, heading, day, when, title)
            entries.append(current)
            section = ""
            continue
        if current is None:
            continue
        st = _STATUS.match(raw)
        if st:
            current.status = st.group(1).strip().lower()
            continue
        sec = None if in_fence else _SECTION.match(raw)
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
                e.date = fixed
                break


def _window(e: Entry) -> tuple[dt.datetime, dt.datetime | None, str]:
    prose = " ".join([e.title, *e.sections.values(), *e.body])
    start = e.time or sd.day_start(e.date)
    end: dt.datetime | None = None
    certainty = "C" if e.time is not None else "A"
    rng = sd.body_range(prose, e.date)
    if rng is not None:
        start, end = rng
        certainty = "C"
    clock = sd.body_clock(prose, e.date)
    if clock is not None:
        start = clock[0]
        end = clock[1] or end
    return start, end, certainty


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


def _to_incident(e: Entry, source: str, now: dt.datetime | None) -> Incident:
    start, end, certainty = _window(e)
    if not e.title:
        e.title = next((ln.strip() for ln in e.body if ln.strip()), e.heading)[:100]
    free = " ".join(line for line in e.free if line)
    kind, causes, impact = classify_full(
        " ".join([e.title, free, e.sections.get("summary", ""), e.sections.get("root_cause", "")])
    )
    if kind == "incident" and not e.sections and re.search(r"\bdown\b", e.title, re.IGNORECASE):
        kind = "outage"
    assumed = None
    if end is None:
        if e.status in ("resolved", "mitigated"):
            assumed = sd.day_start(start.date()) + dt.timedelta(days=2, seconds=-1)
        else:
            assumed = max(now, start) if now is not None else start + _OPEN_DAYS
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
        certainty=certainty if end is not None else certainty + "/?",
        summary=summary[:600],
        root_cause=e.sections.get("root_cause", "")[:600],
        workaround=workaround[:600],
        sources=(f"{source} line {e.line}",) if source else (),
        end_assumed=assumed,
    )


def parse(
    text: str,
    *,
    source: str = "",
    known: Sequence[Incident] = (),
    now: dt.datetime | None = None,
) -> ParseResult:
    """Parse status-page Markdown; entries matching a `known` incident take its id."""
    warnings: list[str] = []
    entries = _split(text, warnings)
    _repair_years(entries, warnings)
    parsed = [_to_incident(e, source, now) for e in entries]
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
