"""Mask secrets and personal data in the user's text; the original input is never modified.

The rules (psgdiag.redact.rules) find spans; where two overlap, the rule listed first wins, and
each kept span is replaced by its mask (`***` for secrets, `<user>`, `<email>`, `<machine>` for
personal data), so a masked log still diagnoses. This module masks text that came from the
input; psgdiag's own prose and commands are never passed through it
(psgdiag.redact.report masks a whole report that way).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable

from psgdiag import regexcode
from psgdiag.redact.context import CONTEXT
from psgdiag.redact.personal import DOMAIN_USER, PERSONAL
from psgdiag.redact.rules import ADO_PAT, EMAIL, MACHINE, SECRET, TOKENS, USER, Rule

__all__ = [
    "EMAIL", "MACHINE", "SECRET", "USER", "Span", "apply", "found", "mask_url", "redact",
    "redact_all", "spans",
]  # fmt: skip

Span = tuple[int, int, str]  # start, end, replacement
#: Every rule, in priority order: context first (a token inside `-ApiKey '...'` is masked as that
#: parameter's value), then token shapes, then personal data, then DOMAIN\user.
RULES: tuple[Rule, ...] = (*CONTEXT, *TOKENS, ADO_PAT, *PERSONAL, DOMAIN_USER)
_LINE_PART = regexcode.compile(r"[^\r\n]+")
# Every rule's trigger words, each looked for once; a rule runs only if one of its own is there.
_TRIGGERS = tuple(sorted({t for r in RULES for t in r.triggers}))
_ANY_TRIGGER = regexcode.compile("|".join(re.escape(t) for t in _TRIGGERS))
_SHORTEST_UNTRIGGERED = 52  # the only rule without trigger words is the 52-character ADO PAT
assert all(r.triggers for r in RULES if r is not ADO_PAT)


def _continues_a_word(text: str, start: int) -> bool:
    return start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_")


def _matches(rule: Rule, text: str, lowered: str) -> Iterable[re.Match[str]]:
    """The rule's matches, in order and not overlapping (at its anchors when it has them)."""
    if rule.anchor is None or len(lowered) != len(text):
        yield from rule.pattern.finditer(text)
        return
    end = 0
    for a in rule.anchor.finditer(lowered):
        if a.start() < end:
            continue
        m = rule.pattern.match(text, a.start())
        if m is not None:
            end = m.end()
            yield m


def _candidates(rule: Rule, text: str, lowered: str) -> Iterable[Span]:
    for m in _matches(rule, text, lowered):
        if rule.word_start and _continues_a_word(text, m.start()):
            continue
        if rule.keep is not None and rule.keep(m):
            continue
        names = rule.pattern.groupindex
        groups: list[str | int] = [g for g in ("s", "s2") if g in names and m.group(g)]
        for g in groups or [0]:
            start, end = m.span(g)
            if start == end:
                continue
            if rule.lines:
                yield start, end, _LINE_PART.sub(rule.mask, text[start:end])
            else:
                yield start, end, rule.mask


def spans(text: str) -> list[Span]:
    """Return the spans to mask, in text order; an earlier rule wins an overlap."""
    lowered = text.lower()
    if len(text) < _SHORTEST_UNTRIGGERED and not _ANY_TRIGGER.search(lowered):
        return []  # a module name, a version: nothing can match
    present = frozenset(t for t in _TRIGGERS if t in lowered)
    taken: list[Span] = []  # sorted by start, never overlapping
    for rule in RULES:
        if rule.triggers and present.isdisjoint(rule.triggers):
            continue
        for span in _candidates(rule, text, lowered):
            i = bisect_right(taken, (span[0], span[0], ""))
            if i > 0 and taken[i - 1][1] > span[0]:
                continue
            if i < len(taken) and taken[i][0] < span[1]:
                continue
            taken.insert(i, span)
    return taken


def apply(text: str, found_spans: list[Span]) -> str:
    """Return the text with each span replaced by its mask (spans in order, not overlapping)."""
    out: list[str] = []
    pos = 0
    for start, end, mask in found_spans:
        out.append(text[pos:start])
        out.append(mask)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def redact(text: str) -> str:
    """Return the text with API keys, tokens, passwords, e-mail addresses and user names masked."""
    if not text:
        return text
    return apply(text, spans(text))


def found(text: str) -> dict[str, str]:
    """Return each masked piece of the text with its mask (what a value taken from it hides)."""
    return {text[start:end]: mask for start, end, mask in spans(text) if text[start:end] != mask}


def redact_all(texts: Iterable[str]) -> list[str]:
    """Redact each string of a sequence."""
    return [redact(t) for t in texts]


def mask_url(url: str) -> str:
    """The URL with the secret in its user part masked: user:***@host, or ***@host for a token.

    Plain string work, so any text (even one urlsplit refuses) is masked, in linear time.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    user, at, host = rest[:end].rpartition("@")
    if not at:
        return url
    name, colon, _ = user.partition(":")
    shown = f"{name}:***" if colon else "***"
    return f"{scheme}://{shown}@{host}{rest[end:]}"
