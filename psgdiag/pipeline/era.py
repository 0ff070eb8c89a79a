"""The era of a paste that writes no time: when the clients and platforms it names existed.

Each fingerprint (a PowerShellGet, PackageManagement, PSResourceGet, NuGet provider or
PowerShell version, a Windows build, a CI runner or agent version, the .NET TLS names) is dated
by data/eras.toml: `since` (it did not exist before: a hard lower bound) and `current_until` (the
last day it was current, when it stopped being so). The era runs from the newest `since` to the
earliest `current_until`; incidents up to `stale_days` after that are still offered, as fitting
only a machine that was out of date, and later or earlier ones are not offered at all.
The rules are in docs/incidents.md ("The era of a paste").
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from psgdiag import regexcode
from psgdiag.cache import data_toml
from psgdiag.model import Era, Facts, Fingerprint, Incident
from psgdiag.record import record

_NUMERIC = regexcode.compile(r"^(\d+(?:\.\d+)*)(?:-([0-9A-Za-z.]+))?$")


@record
class Release:
    """One dated version of a component."""

    version: str
    since: dt.date
    source: str
    until: dt.date | None = None
    current: bool = False


@record
class Component:
    """A client or platform whose versions date a log (one [[component]] of data/eras.toml)."""

    id: str
    label: str
    facts: tuple[tuple[str, str], ...]  # (fact name, take regex or "")
    releases: tuple[Release, ...]
    supersede: bool
    dated: bool = False
    current_days: int = 0
    source: str = ""
    exact: bool = False  # only listed values count (stack line numbers)


def version_key(version: str) -> tuple[Any, ...] | None:
    """Sort key of a version ("1.2.0-rc3" < "1.2.0"); None when it is not numeric."""
    m = _NUMERIC.match(version.strip())
    if m is None:
        return None
    nums = [int(p) for p in m.group(1).split(".")]
    while len(nums) > 1 and nums[-1] == 0:
        nums.pop()  # 2.2 == 2.2.0
    pre = (m.group(2) or "").lower()
    return (tuple(nums), 0 if pre else 1, pre)


def _stable(version: str) -> bool:
    return "-" not in version


def _compact(raw: dict[str, Any]) -> dict[str, Any]:
    """Snapshot step: releases as plain rows (dates as ordinals), cheap to unpickle."""
    for comp in raw["component"]:
        comp["releases"] = [
            [
                str(r["v"]),
                r["since"].toordinal(),
                str(r["src"]),
                r["until"].toordinal() if "until" in r else 0,
                bool(r.get("current", False)),
            ]
            for r in comp["releases"]
        ]
    return raw


@lru_cache(maxsize=1)
def _raw() -> dict[str, Any]:
    return data_toml("eras.toml", _compact)


@lru_cache(maxsize=32)
def component(index: int) -> Component:
    """The index-th [[component]] of data/eras.toml, built on first use."""
    c = _raw()["component"][index]
    releases = tuple(
        Release(
            v,
            dt.date.fromordinal(since),
            src,
            dt.date.fromordinal(until) if until else None,
            current,
        )
        for v, since, src, until, current in c["releases"]
    )
    return Component(
        id=str(c["id"]),
        label=str(c["label"]),
        facts=tuple((str(f["name"]), str(f.get("take", ""))) for f in c["facts"]),
        releases=releases,
        supersede=bool(c.get("supersede", False)),
        dated=bool(c.get("dated", False)),
        current_days=int(c.get("current_days", 0)),
        source=str(c.get("src", "")),
        exact=bool(c.get("exact", False)),
    )


def components() -> tuple[tuple[Component, ...], int]:
    """Every component of data/eras.toml and the stale-days rule."""
    raw = _raw()
    return tuple(component(i) for i in range(len(raw["component"]))), stale_days()


def stale_days() -> int:
    """Days after the era stopped being current during which incidents are still offered."""
    return int(_raw()["rule"]["stale_days"])


def _named(facts: Facts) -> Iterable[int]:
    """Indexes of the components whose facts this log has (the others are never built)."""
    for i, c in enumerate(_raw()["component"]):
        if any(f["name"] in facts.values for f in c["facts"]):
            yield i


def _superseded(comp: Component, key: tuple[Any, ...], since: dt.date) -> dt.date | None:
    """The day a newer stable release came out after `since`, if the component supersedes."""
    if not comp.supersede:
        return None
    later = [
        r.since
        for r in comp.releases
        if _stable(r.version)
        and r.since > since
        and (k := version_key(r.version)) is not None
        and k > key
    ]
    return min(later, default=None)


def _label(comp: Component, version: str) -> str:
    return comp.label.replace("{v}", version) if "{v}" in comp.label else comp.label


def date_version(comp: Component, version: str, line: int) -> Fingerprint | None:
    """Date one version of a component; None when the data says nothing about it."""
    if comp.dated:
        try:
            built = dt.datetime.strptime(version[:8], "%Y%m%d").date()
        except ValueError:
            return None
        rolled = built + dt.timedelta(days=comp.current_days)
        return Fingerprint(comp.id, _label(comp, version), line, built, rolled, "", comp.source)
    exact = next((r for r in comp.releases if r.version.lower() == version.lower()), None)
    key = version_key(version)
    if exact is not None:
        until: dt.date | None = exact.until
        if until is None and not exact.current and key is not None:
            until = _superseded(comp, key, exact.since)
        note = "still current" if exact.current else ""
        return Fingerprint(
            comp.id, _label(comp, version), line, exact.since, until, note, exact.source
        )
    if key is None or comp.exact:
        return None
    older = [r for r in comp.releases if (k := version_key(r.version)) is not None and k < key]
    if not older:
        return None  # older than anything listed: no date to give
    base = max(older, key=lambda r: version_key(r.version) or ())
    superseded = _superseded(comp, key, base.since)
    note = f"not listed: dated by {base.version}"
    label = _label(comp, version)
    return Fingerprint(comp.id, label, line, base.since, superseded, note, base.source)


def _versions(comp: Component, facts: Facts) -> Iterable[tuple[str, int]]:
    for name, take in comp.facts:
        if name in facts.derived:
            continue  # a guess from a stack line number, not a version the log names
        for fv in facts.values.get(name, ()):
            if not take:
                yield fv.value, fv.line
                continue
            m = re.search(take, fv.value)
            if m is not None:
                yield m.group(1), fv.line


def fingerprints(facts: Facts) -> tuple[Fingerprint, ...]:
    """Every component the facts name, dated; of several versions of one the newest counts."""
    out = []
    for index in _named(facts):
        comp = component(index)
        dated = [fp for v, line in _versions(comp, facts) if (fp := date_version(comp, v, line))]
        if dated:
            out.append(max(dated, key=lambda fp: (fp.since, fp.current_until or dt.date.max)))
    return tuple(out)


def era_of(facts: Facts) -> Era | None:
    """Return the era the facts' fingerprints allow, or None when they name no dated version."""
    found = fingerprints(facts)
    if not found:
        return None
    since = max(fp.since for fp in found)
    ends = [fp.current_until for fp in found if fp.current_until is not None]
    current = min(ends, default=None)
    note = ""
    if current is not None and current < since:
        # An out-of-date component beside a newer one: the log is from after both existed, and
        # how long the old one stayed installed says nothing more.
        note = "an out-of-date component beside a newer one: no upper bound"
        current = None
    offered = current + dt.timedelta(days=stale_days()) if current is not None else None
    return Era(since, current, offered, found, note)


def _span(a: dt.date, b: dt.date | None) -> str:
    return f"{a.isoformat()} .. {b.isoformat()}" if b else f"since {a.isoformat()}"


def _lower(era: Era) -> Fingerprint:
    """The fingerprint that bounds the era from below (of equals, one that also ends)."""
    return max(era.fingerprints, key=lambda fp: (fp.since, fp.current_until is not None))


def _upper(era: Era) -> Fingerprint | None:
    """The fingerprint that stopped being current first."""
    ending = [fp for fp in era.fingerprints if fp.current_until is not None]
    return min(ending, key=lambda fp: fp.current_until or dt.date.max) if ending else None


def describe(era: Era) -> str:
    """One line: the era and the fingerprints that bound it."""
    first, last = _lower(era), _upper(era)
    names = [first.label]
    if era.current_until is not None and last is not None and last.label != first.label:
        names.append(last.label)
    text = f"{_span(era.since, era.current_until)} ({'; '.join(names)})"
    return text + (f"; {era.note}" if era.note else "")


def fit(era: Era, inc: Incident) -> tuple[str, str]:
    """How an incident fits the era: (current | stale | outside, why)."""
    start, end = inc.start.date(), inc.window_end.date()
    first, last = _lower(era), _upper(era)
    if end < era.since:
        return "outside", f"before your {first.label} existed (from {era.since.isoformat()})"
    if era.current_until is None or last is None:
        return "current", f"your {first.label} exists since {era.since.isoformat()}"
    if start <= era.current_until:
        return "current", f"your {last.label} was current {_span(last.since, last.current_until)}"
    if era.offered_until is not None and start > era.offered_until:
        return "outside", f"years after your {last.label} stopped being current"
    return "stale", f"only if the machine was out of date: superseded {era.current_until}"


def rank(
    incidents: Sequence[Incident], era: Era | None
) -> tuple[tuple[Incident, ...], tuple[tuple[str, str], ...], tuple[str, ...]]:
    """Order possible incidents by fit with the era: (incidents, (fit, why) each, not offered).

    Without an era the latest comes first. Within the era, incidents from while every
    fingerprint was current come first (latest first), then those that fit only an out-of-date
    machine (nearest first); incidents outside the era are not offered.
    """
    if era is None:
        ordered = sorted(incidents, key=lambda i: (i.start, i.id), reverse=True)
        return tuple(ordered), tuple(("unknown", "") for _ in ordered), ()
    fits = [(inc, *fit(era, inc)) for inc in incidents]
    current = sorted((f for f in fits if f[1] == "current"), key=lambda f: f[0].start, reverse=True)
    stale = sorted((f for f in fits if f[1] == "stale"), key=lambda f: f[0].start)
    kept = current + stale
    outside = tuple(f[0].id for f in fits if f[1] == "outside")
    return tuple(f[0] for f in kept), tuple((f[1], f[2]) for f in kept), outside
