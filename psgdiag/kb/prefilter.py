"""Literal anchors derived from the knowledge base: words that any match of an evidence contains.

Used twice: `psgdiag.scan` looks for them on the raw bytes of huge logs, and the matcher skips a
regex whose anchors are all absent (no compile, no run). Derived generally from the data; no
cause-specific string lives here.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Imported here: only when a snapshot is rebuilt or a check runs (start-up time).
    from psgdiag.model import KnowledgeBase

# Words every PowerShell error record, HTTP failure or warning carries, whatever the cause.
GENERAL = (
    "fullyqualifiederrorid",
    "categoryinfo",
    "exception",
    "msg:",
    "http/",
    "status code",
    "statuscode",
)
# An error record's first line: "Install-Module : ..." (Windows PowerShell), "Verb-Noun: ..." (7).
RECORD_START = r"\b[a-z]+-[a-z]+ ?: "
# Lines marked as errors or warnings ("ERROR:", "##[error]", "error occurred"), not every word
# "error" ("0 Error(s)", "-ErrorAction" are in every build log).
MARKED = (r"\berror\s*[:\]]", r"\berror\s+occurred", r"\bwarning\s*[:\]]")


SPECIFIC_MIN = 10  # shorter phrases are too common in CI noise to be worth a region


def _raw(phrase: str) -> str:
    """Return an RE2 pattern for a phrase on raw bytes: any run of whitespace between words."""
    return r"\s+".join(re.escape(w) for w in phrase.split())


def literal_patterns(literal: str) -> list[str]:
    """Return raw-text patterns for a `text` literal: its first and last three words.

    The matcher compares literals without whitespace and with the PowerShellGet synonyms
    (textview.literal_regex); the anchors follow, and two windows survive one console wrap.
    """
    # Imported here: only when a snapshot is rebuilt or a check runs (start-up time).
    from psgdiag.pipeline.textview import SYN_MAP as _SYN_MAP
    from psgdiag.pipeline.textview import SYN_RX as _SYN_RX

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
            for m in _SYN_RX.finditer(word):
                parts.append(re.escape(word[pos : m.start()]) + _SYN_MAP[m.group(0)])
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
            out.update(_raw(p) for p in phrases if len(p) >= SPECIFIC_MIN)
        elif kind == "exception" and len(pattern) >= SPECIFIC_MIN:
            out.add(_raw(pattern.rsplit(".", 1)[-1]))
        elif kind == "http_status":
            out.update(rf"\({code}\)|\b{code} \(" for code in statuses)
        # fqid and msg_key lines always carry a general anchor; facts: see general_patterns
    return sorted(out)


def general_patterns() -> list[str]:
    """Return the general anchors plus those of the fact extractors and warning prefixes."""
    # Imported here: only when a snapshot is rebuilt or a check runs (start-up time).
    from psgdiag.pipeline.extract import load_extractors
    from psgdiag.pipeline.normalize import load_framing

    out = {_raw(g) for g in GENERAL} | {RECORD_START, *MARKED}
    for ex in load_extractors():
        # Plain words ("module", "version") are everywhere in a PowerShell CI log; paths are not.
        tokens = _regexlit().regex_tokens(ex.pattern) or ()
        out.update(_raw(t) for t in tokens if len(t) >= 8 and not t.isalpha())
    for prefix, stream, _loc in load_framing().streams:
        if stream == "warning" and prefix.isascii():
            out.add(_raw(prefix))
    return sorted(out)


@lru_cache(maxsize=8192)
def literal_required(literal: str) -> str:
    """Return the longest piece every match of textview.literal_regex(literal) contains verbatim."""
    # Imported here: only when a snapshot is rebuilt or a check runs (start-up time).
    from psgdiag.pipeline.textview import SYN_RX as _SYN_RX
    from psgdiag.pipeline.textview import compact

    pieces = re.split(r"[^\x00-\x7f]+", compact(literal))
    parts = [p for piece in pieces for p in _SYN_RX.split(piece)]
    return max(parts, key=len, default="")


_REQUIRED: dict[str, dict[str, tuple[Collection[str], ...]]] = {}


def _regexlit() -> Any:
    """The regex literal parser, imported only when a table is (re)built."""
    # Imported here: only when a snapshot is rebuilt or a check runs (start-up time).
    from psgdiag.kb import regexlit

    return regexlit


_CACHE_FORMAT = 4  # bump when regex_requirements_of changes what it returns


def regex_requirements(kb: KnowledgeBase) -> dict[str, tuple[Collection[str], ...]]:
    """Return regex_requirements_of every regex of the KB, cached on disk beside the snapshot.

    Parsing thousands of regexes costs more than running them, so results are pickled by
    pattern: editing one signature re-parses only its own regexes.
    """
    if kb.required:
        return kb.required
    if kb.version in _REQUIRED:
        return _REQUIRED[kb.version]
    # Imported here: only when a snapshot is rebuilt or a check runs (start-up time).
    from psgdiag.cache import cache_root, load_pickle, save_pickle

    path = cache_root() / f"regex-requirements-v{_CACHE_FORMAT}.pickle"
    patterns = {e.pattern for s in kb.signatures for e in s.evidence if e.kind == "regex"}
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
    table = {p: known[p] for p in patterns}
    _REQUIRED[kb.version] = table
    return table


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
