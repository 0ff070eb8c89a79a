"""Gallery incidents as data: load the bundled history (plus the synced cache) and correlate.

The history lives in data/incidents.toml (ids exactly as in reference/incidents.md). Times are
UTC; a window without a known end uses `end_assumed` when the record gives one.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from psgdiag import regexcode
from psgdiag.cache import data_toml, user_dir
from psgdiag.errors import KbError
from psgdiag.model import Incident, TimeRange

UTC = dt.UTC
INSTALL_IMPACT = frozenset({"Y", "P"})
IMPACTS = frozenset({"Y", "P", "N"})
KEYS = frozenset(
    {
        "id", "title", "start", "end", "end_assumed", "end_reason", "certainty", "kind",
        "impact", "causes", "summary", "root_cause", "workaround", "symptoms", "sources",
        "permanent", "applies_if", "state", "page_heading",
    }
)  # fmt: skip
# page_heading: only in the sync cache, the status-page heading an incident was learnt from.


def _when(value: Any, where: str, problems: list[str], *, end: bool = False) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, dt.date):
        base = dt.datetime(value.year, value.month, value.day, tzinfo=UTC)
        return base + dt.timedelta(days=1, seconds=-1) if end else base
    problems.append(f"{where}: expected a TOML date or date-time, got {value!r}")
    return None


def parse_incident(
    item: dict[str, Any], where: str, problems: list[str], *, check_patterns: bool = True
) -> Incident | None:
    """Validate one [[incident]] table (`check_patterns`: compile its applies_if regexes)."""
    before = len(problems)
    for key in ("id", "title", "start", "kind", "impact"):
        if key not in item:
            problems.append(f"{where}: missing required key `{key}`")
    if len(problems) > before:
        return None
    problems.extend(f"{where}: unknown key `{k}`" for k in sorted(set(item) - KEYS))
    for pattern in item.get("applies_if", []) if check_patterns else ():
        try:
            regexcode.compile(str(pattern))
        except re.error as exc:
            problems.append(f"{where}.applies_if: bad regular expression {pattern!r}: {exc}")
    if item["impact"] not in IMPACTS:
        problems.append(f"{where}.impact: must be Y, P or N, got {item['impact']!r}")
    start = _when(item["start"], f"{where}.start", problems)
    end = _when(item.get("end"), f"{where}.end", problems, end=True)
    assumed = _when(item.get("end_assumed"), f"{where}.end_assumed", problems, end=True)
    if start is None:
        return None
    last = end or assumed
    if last is not None and last < start:
        problems.append(f"{where}: the window ends before it starts")

    def strs(key: str) -> tuple[str, ...]:
        val = item.get(key, [])
        if not isinstance(val, list):
            problems.append(f"{where}.{key}: must be a list of strings")
            return ()
        return tuple(str(v) for v in val)

    return Incident(
        id=str(item["id"]),
        title=str(item["title"]),
        start=start,
        end=end,
        kind=str(item["kind"]),
        impact=str(item["impact"]),
        causes=strs("causes"),
        certainty=str(item.get("certainty", "")),
        summary=str(item.get("summary", "")).strip(),
        root_cause=str(item.get("root_cause", "")).strip(),
        workaround=str(item.get("workaround", "")).strip(),
        symptoms=strs("symptoms"),
        sources=strs("sources"),
        end_assumed=assumed,
        permanent=bool(item.get("permanent", False)),
        state=str(item.get("state", "")),
        end_reason=" ".join(str(item.get("end_reason", "")).split()),
    )


def parse_incidents_toml(text: str, where: str) -> tuple[Incident, ...]:
    """Parse a TOML document of [[incident]] tables; raise KbError listing every problem."""
    import tomllib  # the bundled history comes from a snapshot; only other files parse here

    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise KbError([f"{where}: invalid TOML: {exc}"]) from None
    return parse_incidents_data(raw, where)


def parse_incidents_data(
    raw: dict[str, Any], where: str, *, check_patterns: bool = True
) -> tuple[Incident, ...]:
    """Validate parsed [[incident]] tables; raise KbError listing every problem."""
    problems: list[str] = []
    out = []
    for i, item in enumerate(raw.get("incident", [])):
        where_i = f"{where}: incident[{i}]"
        inc = parse_incident(item, where_i, problems, check_patterns=check_patterns)
        if inc is not None:
            out.append(inc)
    if problems:
        raise KbError(problems)
    return tuple(out)


def cache_path() -> Path:
    """Return where `incidents sync` keeps incidents learned from the live status page."""
    root = os.environ.get("PSGDIAG_DATA_DIR")
    return (Path(root) if root is not None else user_dir("data")) / "incidents-synced.toml"


_BUNDLED = "psgdiag/data/incidents.toml"


def _validated(raw: dict[str, Any]) -> dict[str, Any]:
    """Snapshot step, run when the file changes: the whole check (applies_if regexes compiled),
    and the phrases each applies_if regex needs, so a run compiles only those that can match."""
    parse_incidents_data(raw, _BUNDLED)
    # Imported here: only when the snapshot is rebuilt (start-up time).
    from psgdiag.kb.regexlit import regex_requirements_of

    raw["applies_needs"] = {
        str(item["id"]): [
            [sorted(need) for need in regex_requirements_of(str(p))] for p in item["applies_if"]
        ]
        for item in raw.get("incident", [])
        if "applies_if" in item
    }
    return raw


def _bundled_raw() -> dict[str, Any]:
    return data_toml("incidents.toml", _validated)


@lru_cache(maxsize=1)
def bundled() -> tuple[Incident, ...]:
    """Return the incident history shipped with the package (checked when its snapshot was
    made, so a run does not compile each applies_if regex twice)."""
    return parse_incidents_data(_bundled_raw(), _BUNDLED, check_patterns=False)


@lru_cache(maxsize=1)
def _conditions() -> dict[str, tuple[tuple[str, tuple[tuple[str, ...], ...]], ...]]:
    """incident id -> its applies_if patterns, each with the phrase sets every match needs."""
    raw = _bundled_raw()
    needs = raw.get("applies_needs", {})
    return {
        str(i["id"]): tuple(
            (str(p), tuple(tuple(n) for n in needs[i["id"]][k]))
            for k, p in enumerate(i["applies_if"])
        )
        for i in raw.get("incident", [])
        if "applies_if" in i
    }


def _holds(pattern: str, needs: tuple[tuple[str, ...], ...], text: str, low: str) -> bool:
    if not all(any(word in low for word in need) for need in needs):
        return False  # a phrase every match holds is missing: the regex is not even compiled
    return regexcode.compile(pattern, re.MULTILINE).search(text) is not None


def applicable(incidents: Iterable[Incident], lines: Iterable[str]) -> tuple[Incident, ...]:
    """Drop incidents whose `applies_if` patterns (data) match no line of this document."""
    conditions = _conditions()
    wanted = list(incidents)
    pending = {i.id: conditions[i.id] for i in wanted if i.id in conditions}
    found: set[str] = set()
    if pending:
        # One search per pattern over the whole text (MULTILINE keeps ^/$ per line).
        text = "\n".join(lines)
        low = text.lower()
        found = {
            inc_id
            for inc_id, pats in pending.items()
            if any(_holds(p, needs, text, low) for p, needs in pats)
        }
    return tuple(i for i in wanted if i.id not in conditions or i.id in found)


@lru_cache(maxsize=1)
def end_reasons() -> dict[str, str]:
    """Return why each bundled incident's assumed end was chosen (id -> reason)."""
    raw = _bundled_raw().get("incident", [])
    return {str(i["id"]): " ".join(str(i["end_reason"]).split()) for i in raw if "end_reason" in i}


def load_all(
    extra: Iterable[Incident] = (), problems: list[str] | None = None
) -> tuple[Incident, ...]:
    """Bundled history plus the synced cache (bundled ids win), sorted by start.

    A cache that cannot be read is skipped (it never hides the bundled history); why is
    appended to `problems` when a list is given, for the commands that list incidents.
    """
    by_id = {inc.id: inc for inc in extra}
    path = cache_path()
    if path.is_file():
        try:
            for inc in parse_incidents_toml(path.read_text("utf-8"), str(path)):
                by_id.setdefault(inc.id, inc)
        except (KbError, OSError, UnicodeDecodeError) as exc:
            why = exc.problems[0] if isinstance(exc, KbError) else str(exc)
            if problems is not None:
                problems.append(
                    f"the incident cache {path} cannot be read, so its incidents are not "
                    f"shown ({why}); the next `psgdiag incidents sync` sets it aside"
                )
    for inc in bundled():
        by_id[inc.id] = inc
    return tuple(sorted(by_id.values(), key=lambda i: (i.start, i.id)))


def fits(inc: Incident, cause: str) -> bool:
    """Return True when this incident can explain a failure of this cause."""
    return cause in inc.causes


def at_time(incidents: Iterable[Incident], when: TimeRange) -> list[Incident]:
    """Return the incidents whose window overlaps the failure time."""
    return [i for i in incidents if when.overlaps(i.window_start, i.window_end)]


def correlate(incidents: Iterable[Incident], cause: str, when: TimeRange | None) -> Incident | None:
    """Return the incident that explains this cause at this time, if any (latest start wins)."""
    if when is None:
        return None
    found = [i for i in at_time(incidents, when) if fits(i, cause) and not i.permanent]
    return max(found, key=lambda i: i.start) if found else None


def possible(incidents: Iterable[Incident], cause: str) -> tuple[Incident, ...]:
    """Return every incident that would explain this cause had it happened in its window."""
    return tuple(i for i in incidents if fits(i, cause) and not i.permanent)
