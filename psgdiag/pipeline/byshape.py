"""Recognition by record shape: which catalogued error an error record in a language nobody
catalogued is.

Its command ([Install-Module] in CategoryInfo, or the concise view's "Install-Package:"), its
error category and exception type pick the errors it can be; the language-neutral skeleton of
its text (pipeline/skeleton.py: cmdlets, parameters, product and type names, versions, URLs,
quoted values) and its length pick among them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from psgdiag import regexcode
from psgdiag.kb.catalog import where_key
from psgdiag.model import Facts, Message, Said, Shape
from psgdiag.pipeline.skeleton import Skeleton, quoted_values, skeleton

MAX_TIED = 3  # at most this many equally fitting messages are all taken
NEAR_LENGTH = 1.35  # a translation's word count within this ratio of the template's
LENGTH_GAP = 1.4  # ... and every other tied template's this many times further off
_WHOLE_SLOT = regexcode.compile(r"\{\w+\}")


def by_record_shape(
    facts: Facts, messages: Mapping[str, Message], shapes: Sequence[Shape], said: list[Said]
) -> list[Said]:
    """Records whose text was not recognised: which catalogued error their shape and skeleton fit.

    The candidates are the errors raised by the record's command with its category and exception
    type (any category when CategoryInfo is missing); the one whose template's language-neutral
    tokens the record's text holds best, clearly ahead of the others, is taken.
    """
    out: list[Said] = []
    known_ids: set[str] | None = None  # built on first need: most records are recognised
    for rec in facts.records:
        last = rec.line_end or rec.line
        if any(s.line_start <= last and rec.line <= s.line_end for s in said if s.line_start):
            continue  # this record's text is already recognised
        if known_ids is None:
            known_ids = {e.lower() for s in shapes for e in s.error_ids}
        if rec.fqid.split(",", 1)[0].strip().lower() in known_ids:
            continue  # its FQID says which message it is
        named = (rec.cmdlet, rec.activity, rec.fqid.rsplit(",", 1)[-1])
        wheres = {where_key(w) for w in named if w}
        category, exception = rec.category.lower(), rec.exception.rsplit(".", 1)[-1].lower()
        by_command = [
            s
            for s in shapes
            if wheres.intersection(s.wheres) and (not category or s.category in ("", category))
        ]
        group = [s for s in by_command if not exception or s.exception in ("", exception)]
        printed = skeleton(rec.message)
        found = _best_shape(group, printed, bool(category and exception))
        if not found and len(group) < len(by_command):
            # Releases raise one message with different exception types (Write-Error in one,
            # a thrown InvalidOperationException in another): the command and category remain.
            found = _best_shape(by_command, printed, False)
        if not found and category:
            # A record can print another category than the source declares (a wrapper's, or a
            # rethrow's): when no error of that category fits, the command alone decides.
            anywhere = [s for s in shapes if wheres.intersection(s.wheres)]
            if len(anywhere) > len(by_command):
                found = _best_shape(anywhere, printed, False)
        for best in found:
            if best in messages:
                slots = _one_quoted_slot(messages[best].template, rec.message)
                out.append(Said(best, rec.line, last, "record", slots=slots))
    return out


def _one_quoted_slot(template: str, printed: str) -> tuple[tuple[str, str], ...]:
    """A template with one quoted value, all of it a slot, and a text with one quoted value:
    that value fills the slot in any language (a translation keeps the quotes around it)."""
    names, values = quoted_values(template), quoted_values(printed)
    if len(names) != 1 or len(values) != 1 or not _WHOLE_SLOT.fullmatch(names[0]):
        return ()
    return ((names[0][1:-1], values[0]),) if values[0] else ()


def _best_shape(group: Sequence[Shape], printed: Skeleton, typed: bool) -> tuple[str, ...]:
    """The messages whose shape the printed skeleton fits clearly best (a small tie: all)."""
    scored = []
    for shape in group:
        found = len(shape.tokens & printed.tokens)
        share = found / len(shape.tokens) if shape.tokens else 0.0
        scored.append((found, share, shape.quotes == printed.quotes, shape.message, shape.words))
    if not scored:
        return ()
    scored.sort(reverse=True)
    found, share, quotes = scored[0][:3]
    tied = [s for s in scored if s[:3] == scored[0][:3]]
    near = _near_in_length([s[4] for s in tied], printed.words)
    best = tuple(s[3] for s, is_near in zip(tied, near, strict=True) if is_near or not any(near))
    if len({m.split("@")[0] for m in best}) > MAX_TIED:
        return ()  # too many messages fit equally: not told apart
    if found >= 2 and share >= 0.6:
        return best
    if found == 1 and share >= 0.99 and quotes and (typed or any(near)):
        return best
    if found >= 1 and share >= 0.5 and quotes and typed:
        return best  # its category, exception type and quoted values agree too
    if found == 0 and len(best) == len(scored) and quotes and typed:
        return best  # every error of this shape fits: there is little choice
    return ()


def _near_in_length(words: Sequence[int], printed: int) -> list[bool]:
    """Which tied templates are about as long as the printed text, when that sets them clearly
    apart from the rest (a translation keeps roughly the number of words); else none."""

    def ratio(n: int) -> float:
        return max(n, printed) / min(n, printed) if n and printed else float("inf")

    near = [ratio(n) <= NEAR_LENGTH for n in words]
    if len(near) == 1:
        return near  # the one best fit: its length agrees or not
    if all(near) or not any(near):
        return [False] * len(words)
    farthest_near = max(ratio(n) for n, ok in zip(words, near, strict=True) if ok)
    others = (ratio(n) for n, ok in zip(words, near, strict=True) if not ok)
    if not all(r >= farthest_near * LENGTH_GAP for r in others):
        return [False] * len(words)
    return near
