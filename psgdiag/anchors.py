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

MIN_TOKEN = 4
_WORD = re.compile(r"[a-z0-9][a-z0-9_.:/\\-]*[a-z0-9]")
_QUANT_START = frozenset("?*+{")
_GROUP_HEAD = re.compile(r"\?(?:P?<(?![=!])[^>]*>|<?[=!]|[a-zA-Z-]*[:)])")
_BRACES = re.compile(r"\{(\d*)(,?)(\d*)\}")

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
            m = _GROUP_HEAD.match(self.p, self.i)
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
            m = _BRACES.match(self.p, self.i)
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
    return [w for w in _WORD.findall(text.lower()) if len(w) >= MIN_TOKEN]


def _branch_set(items: list[_Item]) -> _TokenSet | None:
    candidates: list[_TokenSet] = []
    run: list[str] = []

    def flush() -> None:
        for word in _words("".join(run)):
            candidates.append(frozenset((word,)))
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
    return _best(candidates)


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
    """Return lower-case words of which every match of `pattern` contains one (None: unknown)."""
    try:
        parser = _Parser(pattern)
        branches = parser.alternation()
        if parser.i < len(pattern):
            return None  # an unbalanced ')': do not guess
        return _alternation_set(branches)
    except (IndexError, ValueError):
        return None


def literal_tokens(literal: str, synonyms: re.Pattern[str], limit: int = 3) -> tuple[str, ...]:
    """Return up to `limit` of the longest ASCII words of a literal phrase (synonyms excluded)."""
    words: list[str] = []
    for word in re.findall(r"[a-z0-9]+", literal.lower()):
        if len(word) >= MIN_TOKEN and not synonyms.fullmatch(word) and word not in words:
            words.append(word)
    words.sort(key=len, reverse=True)
    return tuple(words[:limit])


# Words every PowerShell error record, HTTP failure or warning carries, whatever the cause.
GENERAL = (
    "fullyqualifiederrorid",
    "categoryinfo",
    "exception",
    "error",
    "warning",
    "msg:",
    "http/",
    "status code",
    "statuscode",
)


def evidence_tokens(kind: str, pattern: str, statuses: tuple[int, ...]) -> tuple[str, ...]:
    """Return raw-text anchors for one evidence entry (empty: rely on the general anchors)."""
    from psgdiag.match import _SYN_RX

    if kind == "text":
        return literal_tokens(pattern, _SYN_RX)
    if kind == "regex":
        return tuple(sorted(regex_tokens(pattern) or ()))
    if kind == "exception":
        words = _words(pattern.rsplit(".", 1)[-1])
        return tuple(words[:1])
    if kind == "http_status":
        return tuple(f for code in statuses for f in (f"({code})", f"{code} ("))
    return ()  # fqid, msg_key: their lines always carry a general anchor; facts: see below


def kb_tokens(signatures: Iterable[tuple[str, str, tuple[int, ...]]]) -> frozenset[str]:
    """Return the anchors of every (kind, pattern, statuses) evidence triple."""
    out: set[str] = set()
    for kind, pattern, statuses in signatures:
        out.update(evidence_tokens(kind, pattern, statuses))
    return frozenset(out)


def general_tokens() -> frozenset[str]:
    """Return the general anchors plus those of the fact extractors and warning-stream prefixes."""
    from psgdiag.extract import load_extractors
    from psgdiag.normalize import load_framing

    out = set(GENERAL)
    for ex in load_extractors():
        # Short extractor words ("module", "version") are everywhere in a PowerShell CI log.
        pattern = ex.regex.pattern
        text = pattern.decode("utf-8") if isinstance(pattern, bytes) else str(pattern)
        out.update(t for t in regex_tokens(text) or () if len(t) >= 8)
    for prefix, stream, _loc in load_framing().streams:
        if stream == "warning":
            out.update(w for w in _WORD.findall(prefix) if len(w) >= MIN_TOKEN)
    return frozenset(out)
