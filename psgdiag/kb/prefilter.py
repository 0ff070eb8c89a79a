"""Literal anchors derived from the knowledge base: words that any match of an evidence contains.

Used twice: the big-file scan (psgdiag.pipeline.anchors) looks for them on the raw bytes of huge
logs, and the matcher skips a regex whose anchors are all absent (no compile, no run). Derived
generally from the data; no cause-specific string lives here.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from functools import lru_cache
from typing import Any

from psgdiag.cache import SNAPSHOT_FORMAT, cache_root, load_pickle, prune, save_pickle
from psgdiag.model import EvidenceKind, KnowledgeBase
from psgdiag.pipeline.textview import compact, wording

SPECIFIC_MIN = 10  # shorter phrases are too common in CI noise to be worth a region


def raw_phrase(phrase: str) -> str:
    """Return an RE2 pattern for a phrase on raw bytes: any run of whitespace between words."""
    return r"\s+".join(re.escape(w) for w in phrase.split())


def literal_patterns(literal: str) -> list[str]:
    """Return raw-text patterns for a `text` literal: its first and last three words.

    The matcher compares literals without whitespace and with the PowerShellGet synonyms
    (textview.literal_regex); the anchors follow, and two windows survive one console wrap.
    """
    words = literal.split()
    windows = [words] if len(words) <= 3 else [words[:3], words[-3:]]
    out: list[str] = []
    for window in windows:
        text = "".join(window).lower()
        if not text.isascii() or sum(c.isalnum() for c in text) < SPECIFIC_MIN:
            continue
        pieces: list[str] = []
        for word in window:
            word = word.lower()
            parts: list[str] = []
            pos = 0
            for m in wording().rx.finditer(word):
                parts.append(re.escape(word[pos : m.start()]) + wording().alternatives[m.group(0)])
                pos = m.end()
            parts.append(re.escape(word[pos:]))
            pieces.append("".join(parts))
        out.append(r"\s*".join(pieces))
    return out


def scan_patterns(
    evidence: Iterable[tuple[str, str, tuple[int, ...]]],
    required: dict[str, tuple[Collection[str], ...]] | None = None,
) -> list[str]:
    """Return the raw-text anchor patterns of (kind, pattern, statuses) evidence entries.

    `required` (regex_requirements of the KB, cached on disk) saves parsing every regex again.
    """
    out: set[str] = set()
    for kind, pattern, statuses in evidence:
        if kind == "text":
            out.update(literal_patterns(pattern))
        elif kind == "regex":
            needs = required.get(pattern) if required is not None else None
            phrases = needs[0] if needs else _regexlit().regex_tokens(pattern) or ()
            out.update(raw_phrase(p) for p in phrases if len(p) >= SPECIFIC_MIN)
        elif kind == "exception" and len(pattern) >= SPECIFIC_MIN:
            out.add(raw_phrase(pattern.rsplit(".", 1)[-1]))
        elif kind == "http_status":
            out.update(rf"\({code}\)|\b{code} \(" for code in statuses)
        # fqid and msg_key lines always carry a general anchor; facts: see general_patterns
    return sorted(out)


@lru_cache(maxsize=8192)
def literal_required(literal: str) -> str:
    """Return the longest piece every match of textview.literal_regex(literal) contains verbatim."""
    pieces = re.split(r"[^\x00-\x7f]+", compact(literal))
    parts = [p for piece in pieces for p in wording().rx.split(piece)]
    return max(parts, key=len, default="")


def _regexlit() -> Any:
    """The regex literal parser (psgdiag.kb.regexlit)."""
    # Imported here: only a table being (re)built parses regexes (start-up time).
    from psgdiag.kb import regexlit

    return regexlit


def regex_requirements(kb: KnowledgeBase) -> dict[str, tuple[Collection[str], ...]]:
    """Return regex_requirements_of every regex of the KB, cached on disk beside the snapshot.

    Parsing thousands of regexes costs more than running them, so results are pickled by
    pattern: editing one signature re-parses only its own regexes.
    """
    if kb.required:
        return kb.required
    path = cache_root() / f"regex-requirements-v{SNAPSHOT_FORMAT}.pickle"
    patterns = {
        e.pattern for s in kb.signatures for e in s.evidence if e.kind == EvidenceKind.REGEX
    }
    try:
        loaded = load_pickle(path.read_bytes())
        known: dict[str, tuple[Collection[str], ...]] = loaded if isinstance(loaded, dict) else {}
    except Exception:  # missing or damaged: rebuild
        known = {}
    missing = patterns.difference(known)
    if missing:
        known.update((p, _regexlit().regex_requirements_of(p)) for p in missing)
        if len(known) > 2 * len(patterns) + 1000:  # forget patterns no signature has any more
            known = {p: known[p] for p in patterns}
        save_pickle(path, known)
        prune("regex-requirements-", 1)  # tables of older snapshot formats are never read again
    return {p: known[p] for p in patterns}


_GRAM_TEXT_LIMIT = 1024 * 1024


def phrase_index(
    required: Mapping[str, tuple[Collection[str], ...]],
) -> dict[str, tuple[str, ...]]:
    """Every phrase of a requirement table, grouped by its first three characters."""
    index: dict[str, set[str]] = {}
    for needs in required.values():
        for need in needs:
            for phrase in need:
                index.setdefault(phrase[:3], set()).add(phrase)
    return {key: tuple(sorted(group)) for key, group in index.items()}


def present_phrases(low: str, index: Mapping[str, tuple[str, ...]]) -> frozenset[str]:
    """The phrases of an index that occur in `low` (lower-cased text).

    Only phrases whose first three characters occur somewhere in the text are searched for, so
    a large table costs little more than a small one on a paste that shares few words with it.
    """
    if len(low) <= _GRAM_TEXT_LIMIT:
        grams = {low[i : i + 3] for i in range(len(low) - 2)}
        keys: Iterable[str] = grams.intersection(index)
    else:  # a huge region: one substring search per phrase is cheaper than its trigram set
        keys = index
    return frozenset(p for key in keys for p in index[key] if p in low)
