"""Approximate recognition: a retyped or truncated copy of a catalogued English text.

Each literal piece of the template must score high against the document (rapidfuzz partial
ratio), the pieces close together; only texts most of whose words the document holds are tried,
and only in documents short enough to have been typed by hand.
"""

from __future__ import annotations

from collections.abc import Sequence

from psgdiag import regexcode
from psgdiag.model import MessageText, Said
from psgdiag.pipeline.textview import TextIndex, fold

FUZZY_CUTOFF = 88  # rapidfuzz partial ratio each literal piece must reach
FUZZY_WORDS = 0.5  # share of a text's words the document must hold to try it approximately
FUZZY_MIN = 24  # compact literal characters a text needs to be matched approximately
FUZZY_MAX_CHARS = 2_000_000  # a retyped paste is short; a log this long was never typed by hand
_WORD = regexcode.compile(r"[a-z]{4,}")


def approximately(index: TextIndex, texts: list[MessageText]) -> list[Said]:
    """The texts found approximately (each message once), best view first."""
    if len(index.compact) > FUZZY_MAX_CHARS:
        return []
    words = frozenset(fold(w) for w in set(_WORD.findall(index.spaced.lower())))
    candidates = [
        t
        for t in texts
        if len(t.words) >= 3
        and sum(map(len, t.pieces)) >= FUZZY_MIN
        and len(t.words & words) >= FUZZY_WORDS * len(t.words)
    ]
    out: list[Said] = []
    done: set[str] = set()
    # As written, then folded on both sides: PowerShellGet prints PackageManagement's texts
    # rewritten ("Get-PackageSource" as "Get-PSRepository"), which the fold undoes; a typo
    # inside a folded word counts for more there, so the plain view goes first.
    for text in candidates:
        if text.message in done:
            continue
        views = (
            (index.compact, index.compact_starts, text.pieces),
            # none when nothing of the text is rewritten: the folded view cannot do better
            (index.folded, index.folded_starts, text.folded_pieces),
        )
        for whole, starts, pieces in views:
            if not pieces:
                break
            span = _aligned(pieces, whole)
            if span is None:
                continue
            first, last = index.lines_for(starts, span[0], span[1])
            out.append(Said(text.message, first, last, "fuzzy", text.locale, (), span[2]))
            done.add(text.message)
            break
    return out


def _aligned(pieces: Sequence[str], whole: str) -> tuple[int, int, int] | None:
    """(start, end, worst score) of every piece found approximately close together, or None."""
    # Imported here: rapidfuzz costs start-up time, and most pastes need no approximate match.
    from rapidfuzz import fuzz

    spans = []
    for piece in pieces:
        res = fuzz.partial_ratio_alignment(piece, whole, score_cutoff=FUZZY_CUTOFF)
        if res is None:
            return None
        spans.append((res.dest_start, res.dest_end, res.score))
    lo, hi = min(s[0] for s in spans), max(s[1] for s in spans)
    if hi - lo > 3 * sum(len(p) for p in pieces) + 600:
        return None  # the pieces are scattered: not one message
    return lo, hi, int(min(s[2] for s in spans))
