"""Evidence in words a reader can act on: what a considered cause would have needed.

A `[[evidence]] describe` field says it in the signature's own words; where there is none, the
words come from what the evidence matches: a catalogued message's template, a literal phrase,
an error id, an exception type, HTTP statuses. Regex and fact evidence have no words of their
own and need the field (`signatures check` warns when one that can establish a cause lacks it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from psgdiag import regexcode
from psgdiag.model import Evidence, EvidenceKind, Message

MAX_WORDS = 90  # characters of a quoted message or phrase
_SLOT = regexcode.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


def _quote(text: str) -> str:
    text = " ".join(_SLOT.sub("…", text).split())
    first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    if len(first) > MAX_WORDS:
        first = first[: MAX_WORDS - 1].rstrip() + "…"
    return f"'{first}'"


def _statuses(codes: tuple[int, ...]) -> str:
    hundreds = sorted({c // 100 for c in codes})
    if len(codes) >= 100 and len(hundreds) == len(codes) // 100:
        return "/".join(f"{h}xx" for h in hundreds)
    return "/".join(str(c) for c in sorted(set(codes))[:4])


def describe(ev: Evidence, messages: Mapping[str, Message]) -> str:
    """The evidence in words ("" when it has none of its own and no describe field)."""
    if ev.describe:
        return ev.describe
    if ev.kind == EvidenceKind.MESSAGE:
        msg = messages.get(ev.pattern) or next(
            (m for k, m in sorted(messages.items()) if k.split("@", 1)[0] == ev.pattern), None
        )
        return f"a {_quote(msg.template)} message" if msg is not None else ""
    if ev.kind == EvidenceKind.TEXT:
        return f"the words {_quote(ev.pattern)}"
    if ev.kind == EvidenceKind.FQID:
        return f"the error id {ev.pattern.split(',', 1)[0].strip()}"
    if ev.kind == EvidenceKind.EXCEPTION:
        return f"a {ev.pattern.rsplit('.', 1)[-1]}"
    if ev.kind == EvidenceKind.MSG_KEY:
        return f"the message key MSG:{ev.pattern}"
    if ev.kind == EvidenceKind.HTTP_STATUS:
        return f"an HTTP {_statuses(ev.statuses)} answer"
    if ev.kind == EvidenceKind.INCIDENT:
        return "a failure time inside a known gallery incident of this kind"
    return ""
