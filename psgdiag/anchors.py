"""Literal anchors derived from the knowledge base: words that any match of an evidence contains.

Used twice: `psgdiag.scan` looks for them on the raw bytes of huge logs, and the matcher skips a
regex whose anchors are all absent (no compile, no run). Derived generally from the data; no
cause-specific string lives here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from psgdiag.model import KnowledgeBase

MIN_TOKEN = 3
# Patterns as strings: `re` caches them on first use, so importing this module compiles nothing.
_WORD = r"[a-z0-9][a-z0-9_.:/\\-]*[a-z0-9]"
_QUANT_START = frozenset("?*+{")
_GROUP_HEAD = r"\?(?:P?<(?![=!])[^>]*>|<?[=!]|[a-zA-Z-]*[:)])"
_BRACES = r"\{(\d*)(,?)(\d*)\}"

# One required token set per parsed item: a frozenset of words, any of which every match contains.
_TokenSet = frozenset[str]


@dataclass
class _Item:
    """One regex atom: a literal character, a group (its branches) or anything else."""

    char: str = ""
    branches: list[list[_Item]] | None = None
    optional: bool = False
    repeated: bool = False


class _Parser:
    """A tolerant parser for the RE2/Python regex subset the signatures use."""

    def __init__(self, pattern: str) -> None:
        self.p = pattern
        self.i = 0

    def alternation(self) -> list[list[_Item]]:
        branches: list[list[_Item]] = [[]]
        while self.i < len(self.p):
            ch = self.p[self.i]
            if ch == ")":
                break
            if ch == "|":
                self.i += 1
                branches.append([])
                continue
            item = self.atom()
            if item is not None:
                self.quantifier(item)
                branches[-1].append(item)
        return branches

    def atom(self) -> _Item | None:
        ch = self.p[self.i]
        self.i += 1
        if ch == "(":
            m = re.compile(_GROUP_HEAD).match(self.p, self.i)
            head = m.group(0) if m else ""
            self.i += len(head)
            if head.endswith(")"):
                return None  # an inline flag group such as (?i) has no body
            branches = self.alternation()
            self.i += 1  # the closing parenthesis (or the end)
            if head.startswith(("?=", "?!", "?<=", "?<!")):
                return _Item()  # a look-around consumes nothing
            return _Item(branches=branches)
        if ch == "[":
            self.skip_class()
            return _Item()
        if ch == "\\":
            nxt = self.p[self.i : self.i + 1]
            self.i += 1
            if not nxt or nxt.isalnum():
                return _Item()  # \d, \w, \b, \x41, \1 ...: not a plain literal
            return _Item(char=nxt)
        if ch in ".^$":
            return _Item()
        return _Item(char=ch)

    def skip_class(self) -> None:
        if self.p.startswith("^", self.i):
            self.i += 1
        if self.p.startswith("]", self.i):
            self.i += 1
        while self.i < len(self.p) and self.p[self.i] != "]":
            self.i += 2 if self.p[self.i] == "\\" else 1
        self.i += 1

    def quantifier(self, item: _Item) -> None:
        if self.i >= len(self.p) or self.p[self.i] not in _QUANT_START:
            return
        ch = self.p[self.i]
        if ch == "{":
            m = re.compile(_BRACES).match(self.p, self.i)
            if not m:
                return  # a literal brace
            self.i = m.end()
            item.optional = m.group(1) in ("", "0")
            item.repeated = bool(m.group(2)) or m.group(1) not in ("", "1")
        else:
            self.i += 1
            item.optional = ch in "?*"
            item.repeated = ch in "*+"
        if self.p.startswith(("?", "+"), self.i):
            self.i += 1  # lazy or possessive marker


def _best(candidates: Iterable[_TokenSet]) -> _TokenSet | None:
    """Prefer sets whose shortest word is longest, then smaller sets."""
    best: _TokenSet | None = None
    for cand in candidates:
        if not cand or min(map(len, cand)) < MIN_TOKEN:
            continue
        if best is None or (min(map(len, cand)), -len(cand)) > (min(map(len, best)), -len(best)):
            best = cand
    return best


def _words(text: str) -> list[str]:
    return [w for w in re.findall(_WORD, text.lower()) if len(w) >= MIN_TOKEN]


def _branch_set(items: list[_Item]) -> _TokenSet | None:
    return _best(_branch_candidates(items))


def _branch_candidates(items: list[_Item]) -> list[_TokenSet]:
    """Every token set a match of this branch must hit (each one is required)."""
    candidates: list[_TokenSet] = []
    run: list[str] = []

    def flush() -> None:
        phrase = " ".join("".join(run).lower().split())
        if len(phrase) >= MIN_TOKEN:
            candidates.append(frozenset((phrase,)))
        run.clear()

    for item in items:
        if item.optional:
            flush()
            continue
        if item.branches is not None:
            flush()
            group = _alternation_set(item.branches)
            if group is not None:
                candidates.append(group)
            continue
        if not item.char:
            flush()
            continue
        run.append(item.char)
        if item.repeated:
            flush()
    flush()
    return [c for c in candidates if min(map(len, c)) >= MIN_TOKEN]


def _alternation_set(branches: list[list[_Item]]) -> _TokenSet | None:
    union: set[str] = set()
    for branch in branches:
        got = _branch_set(branch)
        if got is None:
            return None
        union |= got
    return frozenset(union)


@lru_cache(maxsize=8192)
def regex_tokens(pattern: str) -> _TokenSet | None:
    """Return lower-case phrases of which every match of `pattern` holds one (None: unknown).

    A phrase is a literal run of the regex with its whitespace collapsed to single spaces, as in
    the matcher's spaced view.
    """
    try:
        parser = _Parser(pattern)
        branches = parser.alternation()
        if parser.i < len(pattern):
            return None  # an unbalanced ')': do not guess
        return _alternation_set(branches)
    except (IndexError, ValueError):
        return None


@lru_cache(maxsize=8192)
def regex_requirements_of(pattern: str) -> tuple[_TokenSet, ...]:
    """Return token sets that every match must each hit (all of them; empty: unknown).

    A regex without top-level alternation requires every literal run and every group of
    alternatives it is made of; with alternation, one set: the union of each branch's best.
    """
    try:
        parser = _Parser(pattern)
        branches = parser.alternation()
        if parser.i < len(pattern):
            return ()
        if len(branches) == 1:
            return tuple(sorted(_branch_candidates(branches[0]), key=lambda c: -min(map(len, c))))
        union = _alternation_set(branches)
        return (union,) if union else ()
    except (IndexError, ValueError):
        return ()


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
    (match.literal_regex); the anchors follow, and two windows survive one console wrap.
    """
    from psgdiag.match import _SYN_MAP, _SYN_RX

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
    required: dict[str, tuple[frozenset[str], ...]] | None = None,
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
            phrases = needs[0] if needs else regex_tokens(pattern) or ()
            out.update(_raw(p) for p in phrases if len(p) >= SPECIFIC_MIN)
        elif kind == "exception" and len(pattern) >= SPECIFIC_MIN:
            out.add(_raw(pattern.rsplit(".", 1)[-1]))
        elif kind == "http_status":
            out.update(rf"\({code}\)|\b{code} \(" for code in statuses)
        # fqid and msg_key lines always carry a general anchor; facts: see general_patterns
    return sorted(out)


def general_patterns() -> list[str]:
    """Return the general anchors plus those of the fact extractors and warning prefixes."""
    from psgdiag.extract import load_extractors
    from psgdiag.normalize import load_framing

    out = {_raw(g) for g in GENERAL} | {RECORD_START, *MARKED}
    for ex in load_extractors():
        pattern = ex.regex.pattern
        text = pattern.decode("utf-8") if isinstance(pattern, bytes) else str(pattern)
        # Plain words ("module", "version") are everywhere in a PowerShell CI log; paths are not.
        out.update(_raw(t) for t in regex_tokens(text) or () if len(t) >= 8 and not t.isalpha())
    for prefix, stream, _loc in load_framing().streams:
        if stream == "warning" and prefix.isascii():
            out.add(_raw(prefix))
    return sorted(out)


@lru_cache(maxsize=8192)
def literal_required(literal: str) -> str:
    """Return the longest piece every match of match.literal_regex(literal) contains verbatim."""
    from psgdiag.match import _SYN_RX, compact

    pieces = re.split(r"[^\x00-\x7f]+", compact(literal))
    parts = [p for piece in pieces for p in _SYN_RX.split(piece)]
    return max(parts, key=len, default="")


_REQUIRED: dict[str, dict[str, tuple[frozenset[str], ...]]] = {}
_CACHE_FORMAT = 3  # bump when regex_requirements_of changes what it returns


def regex_requirements(kb: KnowledgeBase) -> dict[str, tuple[frozenset[str], ...]]:
    """Return regex_requirements_of every regex of the KB, cached on disk beside the snapshot.

    Parsing thousands of regexes costs more than running them, so results are pickled by
    pattern: editing one signature re-parses only its own regexes.
    """
    if kb.version in _REQUIRED:
        return _REQUIRED[kb.version]
    import os
    import pickle

    from psgdiag.kb import cache_root, load_pickle

    path = cache_root() / f"regex-requirements-v{_CACHE_FORMAT}.pickle"
    patterns = {e.pattern for s in kb.signatures for e in s.evidence if e.kind == "regex"}
    try:
        loaded = load_pickle(path.read_bytes())
        known: dict[str, tuple[frozenset[str], ...]] = loaded if isinstance(loaded, dict) else {}
    except Exception:  # missing or damaged: rebuild
        known = {}
    missing = patterns.difference(known)
    if missing:
        known.update((p, regex_requirements_of(p)) for p in missing)
        if len(known) > 2 * len(patterns) + 1000:  # forget patterns no signature has any more
            known = {p: known[p] for p in patterns}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            with tmp.open("wb") as fh:
                pickle.dump(known, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except OSError:
            pass
    table = {p: known[p] for p in patterns}
    _REQUIRED[kb.version] = table
    return table
