"""Signature fact predicates (`psget_version < 2.2.4`, `every host ~ RX`) on extracted facts.

Versions compare numerically, other values case-insensitively; `~` / `!~` are RE2 searches, so a
signature's pattern cannot hang the run; `time` compares the failure-time range, `locale` the
detected UI languages.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from psgdiag.kb.regex import cached_regex
from psgdiag.model import Facts, FactTest


def _version(text: str) -> tuple[int, ...] | None:
    m = re.match(r"^\s*v?(\d+(?:\.\d+)*)", text)
    return tuple(int(p) for p in m.group(1).split(".")) if m else None


def _compare(left: str, op: str, right: str) -> bool:
    if op in ("~", "!~"):
        try:  # RE2, like every signature regex: a signature's pattern must not be able to hang us
            found = cached_regex(right).search(left) is not None
        except Exception:  # re2.error: a pattern RE2 rejects never matches
            found = False
        return found if op == "~" else not found
    lv, rv = _version(left), _version(right)
    a: Any
    b: Any
    if lv is not None and rv is not None:
        width = max(len(lv), len(rv))
        a, b = lv + (0,) * (width - len(lv)), rv + (0,) * (width - len(rv))
    else:
        a, b = left.lower(), right.lower()
    return bool(
        {
            "==": a == b,
            "!=": a != b,
            "<": a < b,
            "<=": a <= b,
            ">": a > b,
            ">=": a >= b,
        }[op]
    )


def eval_fact(test: FactTest, facts: Facts, locales: tuple[str, ...]) -> tuple[bool, int]:
    """Evaluate a fact predicate; return (holds, line the fact came from)."""
    if test.name == "time":
        if facts.time is None:
            return test.op == "missing", 0
        if test.op == "exists":
            return True, facts.time.line
        when = dt.datetime.fromisoformat(test.value).replace(tzinfo=dt.UTC)
        lo, hi = facts.time.lo, facts.time.hi
        ok = {
            "<": hi < when,
            "<=": hi <= when,
            ">": lo > when,
            ">=": lo >= when,
            "==": lo <= when <= hi,
            "!=": not lo <= when <= hi,
        }.get(test.op, False)
        return ok, facts.time.line
    if test.name == "locale":
        vals = [(loc, 0) for loc in locales]
    else:
        vals = [(v.value, v.line) for v in facts.values.get(test.name, ())]
    if test.op == "exists":
        return bool(vals), vals[0][1] if vals else 0
    if test.op == "missing":
        return not vals, 0
    if test.every:
        held = bool(vals) and all(_compare(value, test.op, test.value) for value, _ in vals)
        return held, vals[0][1] if held else 0
    for value, line in vals:
        if _compare(value, test.op, test.value):
            return True, line
    return False, 0
