"""When a status entry started and ended, read from its prose.

The text is cut into tokens by one RE2 pattern (linear time): dates, clock times, zones,
durations ("for 2 hours", "will last 10 minutes"), look-backs ("for the past week"), cue words and
dashes; sentences end at `.`, `;`, `!`, `?` or a line break. Then, per sentence:

- "between/from DATE and/to DATE" is a day range (the end day widened to the Pacific day's end);
- "CLOCK and/to/- CLOCK ZONE" is a start and an end ("from 11am-1pm PST", "between 8:15 AM and
  11:15 AM Pacific Time");
- any other clock takes the meaning of the nearest cue before it ("began roughly 00:53 UTC",
  "resolved as of 09:00pm UTC"); a clock with no cue is a start ("Around 08:00pm UTC users ...");
- a duration ends the start of its sentence; a look-back starts the entry before its heading.

A clock's day is the date written next to it, else the last date written before it, else the
heading's day; a clock without a zone is in the team's zone (data/status_keywords.toml).

The page comes from the network. The tokenizer runs on RE2 (statusdates.linear), and what is
read is capped: an entry's first MAX_PROSE characters and, of those, its first `limit` tokens
(MAX_TOKENS unless the caller's page-wide budget has less left). Each token costs 20-100
microseconds (the RE2 binding, then Python); the real page has at most 31 an entry.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from psgdiag.cache import data_toml
from psgdiag.incidents import statusdates as sd
from psgdiag.pipeline import datewords
from psgdiag.record import record, replace

_NEAR = dt.timedelta(days=sd.MAX_RANGE_DAYS)
MAX_PROSE = 20_000  # characters of an entry read for its window
MAX_TOKENS = 400  # tokens (stops included) read of one entry
_BOUND_AFTER = frozenset({"", "on", "of", ","})


@record
class Window:
    """Start and end read from an entry's prose (None where it says nothing)."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None
    start_approx: bool = False
    end_approx: bool = False
    tokens: int = 0  # tokens read (stops included), for the caller's page-wide budget
    cut: bool = False  # the limit stopped the reading before the end of the prose


@record
class _Tok:
    kind: str  # stop | date | clock | zone | dur | back | cue | sep
    text: str
    start: int
    end: int
    groups: dict[str, str | None]
    written: sd.Day | None = None  # a date token as written, read once (a sentence reads it often)


@record
class _Event:
    role: str  # start | end | any
    when: dt.datetime
    approx: bool
    pos: int
    by_context: bool = False  # the day came from context, not a date written beside it


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, Any]:
    """The [window] table of data/status_keywords.toml."""
    return dict(data_toml("status_keywords.toml")["window"])


_KINDS = ("stop", "date", "clock", "zone", "dur", "back", "cue", "sep")
_PARTS = ("dn", "du", "bn", "bu")


@lru_cache(maxsize=1)
def _lexer() -> tuple[Any, tuple[tuple[str, int], ...], tuple[tuple[str, int], ...]]:
    """The token pattern, and the group numbers of its kinds and parts (looked up once: the RE2
    binding decodes every group name again on each lastgroup or groupdict)."""
    pattern = _pattern()
    index = dict(pattern.regex.groupindex)
    kinds = tuple((k, int(index[k])) for k in _KINDS)
    return pattern, kinds, tuple((p, int(index[p])) for p in _PARTS)


def _pattern() -> Any:
    v = vocabulary()
    words = [*v["start_cues"], *v["end_cues"], *v["approximate"], *v["range_words"]]
    cues = datewords.alternation(words).replace(r"\ ", r"\s+")
    nums = datewords.alternation(v["numbers"]).replace(r"\ ", r"\s+")
    units = datewords.alternation(v["units"])
    approx = datewords.alternation(v["approximate"])
    mon = datewords.month_pattern(english_only=True)
    date = (
        r"\d{1,2}[/-]\d{1,2}[/-]\d{2,4}\b|\d{4}-\d{1,2}-\d{1,2}\b"
        rf"|{sd.WEEKDAY}(?:{mon})\.?\s+\d{{1,2}}{sd.ORDINAL}\b(?:,?[ \t]*\d{{4}}\b)?"
        rf"|\d{{1,2}}{sd.ORDINAL}\s+(?:of\s+)?(?:{mon})\b(?:,?[ \t]*\d{{4}}\b)?"
    )
    return sd.rx(
        r"(?P<stop>[.;!?](?:\s|$)|\n)"
        rf"|(?P<date>{date})"
        r"|(?P<clock>\b\d{1,2}:\d\d(?::\d\d)?(?:\s?[ap]\.?m\b\.?|\b)|\b\d{1,2}\s?[ap]\.?m\b\.?"
        r"|\bmidnight\b|\bnoon\b)"
        rf"|(?P<zone>\(?\b(?:{sd.zone_pattern()})\b\)?)"
        rf"|(?P<dur>\b(?:for|lasts?|lasting)\s+(?:(?:{approx})\s+)?(?P<dn>\d{{1,3}}|{nums})\s+"
        r"(?P<du>hours?|hrs?|minutes?|mins?)\b)"
        rf"|(?P<back>\b(?:for|over)\s+the\s+past\s+"
        rf"(?:(?P<bn>\d{{1,3}}|{nums})\s+)?(?P<bu>{units})\b)"
        rf"|(?P<cue>\b(?:{cues})\b)"
        r"|(?P<sep>[-–—])"
    )


def _sentences(text: str, limit: int) -> tuple[list[list[_Tok]], int, bool]:
    """The tokens of each sentence, how many matches were read, and whether `limit` left some
    unread."""
    out: list[list[_Tok]] = [[]]
    read = 0
    pattern, kinds, parts = _lexer()
    for m in pattern.finditer(text):
        if read >= limit:
            return [s for s in out if s], read, True
        read += 1
        kind = next((k for k, i in kinds if m.start(i) >= 0), "sep")
        if kind == "stop":
            if out[-1]:
                out.append([])
        else:
            start, end = m.span()
            said = text[start:end]
            groups = {p: m.group(i) for p, i in parts} if kind in ("dur", "back") else {}
            found = sd.date_at(said, 0) if kind == "date" else None
            written = found[0] if found is not None else None
            out[-1].append(_Tok(kind, said, start, end, groups, written))
    return [s for s in out if s], read, False


def _role(word: str) -> str:
    v = vocabulary()
    w = " ".join(word.lower().split())
    if w in v["approximate"]:
        return "approx"
    if w in v["range_words"]:
        return "range"
    return "start" if w in v["start_cues"] else "end" if w in v["end_cues"] else "other"


def _gap(text: str, a: _Tok, b: _Tok) -> str:
    return text[a.end : b.start].strip(" \t").lower()


def _day(tok: _Tok, heading: dt.date) -> dt.date | None:
    d = tok.written
    if d is None:
        return None
    year = d.year if d.year is not None else heading.year
    day = sd.make_date(year, d.month, d.day)
    if day is not None and d.year is None and abs((day - heading).days) > 200:
        day = sd.make_date(year + (1 if day < heading else -1), d.month, d.day)
    return day


def _clock_at(
    toks: list[_Tok], i: int, text: str, day: dt.date, heading: dt.date, zone: str
) -> tuple[dt.datetime | None, int, bool]:
    """The clock toks[i] in UTC, the index after it (and its zone and date), and whether its day
    was written after it ("5pm (PDT) 10/10/17", "00:53 UTC on April 4")."""
    raw = toks[i].text.lower()
    j = i + 1
    if j < len(toks) and toks[j].kind == "zone" and _gap(text, toks[i], toks[j]) == "":
        zone, j = toks[j].text, j + 1
    dated = False
    nxt = toks[j] if j < len(toks) else None
    if nxt is not None and nxt.kind == "date" and _gap(text, toks[j - 1], nxt) in _BOUND_AFTER:
        day, dated, j = _day(nxt, heading) or day, True, j + 1
    if raw in ("midnight", "noon"):
        hour, minute, ampm = (24 if raw == "midnight" else 12), 0, None
    else:
        digits = raw.replace(" ", "").replace(".", "")
        ampm = digits[-2] if digits.endswith(("am", "pm")) else None
        parts = (digits[:-2] if ampm else digits).split(":")
        hour, minute = int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    return sd.clock(day, hour, minute, ampm, zone), j, dated


def _zone_after(toks: list[_Tok], i: int, text: str) -> str | None:
    nxt = toks[i + 1] if i + 1 < len(toks) else None
    if nxt is not None and nxt.kind == "zone" and _gap(text, toks[i], nxt) == "":
        return nxt.text
    return None


def _cue_before(toks: list[_Tok], i: int) -> tuple[str, bool]:
    """The directional cue nearest before toks[i] in its sentence, and whether it is approximate."""
    approx = False
    for k in range(i - 1, -1, -1):
        if toks[k].kind in ("clock", "date"):
            break
        if toks[k].kind == "cue":
            role = _role(toks[k].text)
            if role == "approx":
                approx = True
            elif role in ("start", "end"):
                return role, approx
    return "any", approx


def _amount(number: str | None, unit: str, table: str) -> dt.timedelta:
    v = vocabulary()
    n = 1 if not number else int(number) if number.isdigit() else v["numbers"].get(number, 1)
    if table == "units":
        return dt.timedelta(days=n * v["units"][unit.lower()])
    return dt.timedelta(hours=n) if unit.lower().startswith("h") else dt.timedelta(minutes=n)


def _date_range(toks: list[_Tok], text: str, heading: dt.date) -> Window | None:
    for i in range(len(toks) - 3):
        a, b, c, d = toks[i : i + 4]
        if not (a.kind == "cue" and _role(a.text) == "start" and b.kind == "date"):
            continue
        if not ((c.kind == "cue" and _role(c.text) == "range") or c.kind == "sep"):
            continue
        nxt = toks[i + 4] if i + 4 < len(toks) else None
        if d.kind != "date" or (nxt is not None and nxt.kind == "clock"):
            continue
        first, last = _day(b, heading), _day(d, heading)
        if first and last and 0 <= (last - first).days <= sd.MAX_RANGE_DAYS:
            return Window(sd.day_start(first), sd.day_end(last))
    return None


def _joined_clock(toks: list[_Tok], j: int) -> int | None:
    """The index of a clock joined to the one before by a dash or a range word, if any."""
    if j >= len(toks):
        return None
    if not (toks[j].kind == "sep" or (toks[j].kind == "cue" and _role(toks[j].text) == "range")):
        return None
    k = j + 1
    while k < len(toks) and toks[k].kind == "cue" and _role(toks[k].text) == "approx":
        k += 1
    return k if k < len(toks) and toks[k].kind == "clock" else None


def _events(
    toks: list[_Tok], text: str, heading: dt.date, ctx: dt.date, ranged: bool
) -> list[_Event]:
    zone = str(vocabulary()["team_zone"])
    events: list[_Event] = []
    duration: dt.timedelta | None = None
    day, dated = ctx, False  # a date written earlier in the sentence dates the clocks after it
    i = 0
    while i < len(toks):
        tok = toks[i]
        if tok.kind == "date":
            day, dated = _day(tok, heading) or day, True
        elif tok.kind == "dur":
            duration = _amount(tok.groups["dn"], str(tok.groups["du"]), "dur")
        if tok.kind != "clock":
            i += 1
            continue
        role, approx = _cue_before(toks, i)
        when, j, after = _clock_at(toks, i, text, day, heading, zone)
        # a time without a written zone is read in the team's zone: approximate
        approx = approx or _zone_after(toks, i, text) is None
        k = _joined_clock(toks, j)
        if k is not None:  # "from 11am-1pm PST", "between 8:15 AM and 11:15 AM Pacific Time"
            end, nxt, after2 = _clock_at(toks, k, text, day, heading, zone)
            shared = _zone_after(toks, k, text)
            if shared is not None and _zone_after(toks, i, text) is None:
                when = _clock_at(toks, i, text, day, heading, shared)[0]
                approx = _cue_before(toks, i)[1]
            if when is not None:
                events.append(_Event("start", when, approx, tok.start, not (dated or after)))
            if end is not None:
                events.append(_Event("end", end, approx, toks[k].start, not (dated or after2)))
            i = nxt
            continue
        if when is not None:
            events.append(_Event(role, when, approx, tok.start, not (dated or after)))
        i = j
    if duration is not None:
        starts = [e for e in events if e.role in ("start", "any")]
        if starts:
            s = starts[-1]
            events.append(_Event("end", s.when + duration, s.approx, s.pos + 1))
    for idx, tok in enumerate(toks):  # "Starting January 26th users reported ..."
        timed = idx + 1 < len(toks) and toks[idx + 1].kind == "clock"
        if not ranged and tok.kind == "date" and not timed:
            role, _ = _cue_before(toks, idx)
            found = _day(tok, heading)
            if found is not None and role == "start":
                events.append(_Event("start", sd.day_start(found), True, tok.start))
            elif found is not None and role == "end":
                events.append(_Event("end", sd.day_end(found), True, tok.start))
    return events


def window(
    prose: str, heading: dt.date, posted: dt.datetime | None = None, *, limit: int = MAX_TOKENS
) -> Window:
    """Return the start and end an entry's prose gives (heading day and posting time as context),
    reading at most `limit` tokens of its first MAX_PROSE characters."""
    sentences, read, cut = _sentences(prose[:MAX_PROSE], min(limit, MAX_TOKENS))
    got = _window(sentences, prose, heading, posted)
    return replace(got, tokens=read, cut=cut or len(prose) > MAX_PROSE)


def _window(
    sentences: list[list[_Tok]], prose: str, heading: dt.date, posted: dt.datetime | None
) -> Window:
    events: list[_Event] = []
    back: dt.timedelta | None = None
    ranged: Window | None = None
    ctx = heading
    for toks in sentences:
        in_sentence = _date_range(toks, prose, heading)
        ranged = ranged or in_sentence
        events.extend(_events(toks, prose, heading, ctx, in_sentence is not None))
        dates = [t for t in toks if t.kind == "date"]
        ctx = (_day(dates[-1], heading) or ctx) if dates else ctx
        for t in toks:
            if t.kind == "back" and back is None:
                back = _amount(t.groups["bn"], str(t.groups["bu"]), "units")
    anchor = posted or sd.day_start(heading)
    events = [e for e in events if abs(e.when - anchor) <= _NEAR]
    starts = [e for e in events if e.role == "start"] or [e for e in events if e.role == "any"][:1]
    ends = [e for e in events if e.role == "end"]
    out = ranged or Window()
    if starts:
        first = min(starts, key=lambda e: e.when)
        out = Window(first.when, out.end, first.approx, out.end_approx)
    elif back is not None and out.start is None:
        out = Window(anchor - back, out.end, True, out.end_approx)
    if ends:
        last = max(ends, key=lambda e: e.when)
        end = last.when
        start = out.start or anchor
        if end < start and last.by_context:
            end += dt.timedelta(days=1)
        if any(s.when > end for s in starts) or end < start:
            return Window(out.start, None, out.start_approx)  # the end did not hold
        out = Window(out.start, end, out.start_approx, last.approx)
    return out
