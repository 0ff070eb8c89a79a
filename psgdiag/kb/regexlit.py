"""Literal phrases every match of a regex must contain, from a small parser of the RE2 subset.

A regex is split into literal runs and groups of alternatives; optional atoms are skipped. A run
(whitespace collapsed, lower case) or a group whose every alternative yields a phrase is required.
Used by psgdiag.anchors (scan anchors, the matcher's prefilter); never guesses: an input it does
not understand yields no requirement.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from psgdiag import regexcode
from psgdiag.record import record

MIN_TOKEN = 3
MAX_CLASS = 10  # a character class of at most this many members is spelled out ([0-4], \d)
MAX_SPELLED = 128  # most alternative spellings one literal run may grow into
# Patterns as strings: `re` caches them on first use, so importing this module compiles nothing.
WORD = r"[a-z0-9][a-z0-9_.:/\\-]*[a-z0-9]"
_QUANT_START = frozenset("?*+{")
_GROUP_HEAD = regexcode.compile(r"\?(?:P?<(?![=!])[^>]*>|<?[=!]|[a-zA-Z-]*[:)])")
_BRACES = regexcode.compile(r"\{(\d*)(,?)(\d*)\}")

# One required token set per parsed item: a frozenset of words, any of which every match contains.
_TokenSet = frozenset[str]


@record(frozen=False)
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
            start = self.i
            self.skip_class()
            return _choice(_class_members(self.p[start : self.i - 1]))
        if ch == "\\":
            nxt = self.p[self.i : self.i + 1]
            self.i += 1
            if nxt == "d":
                return _choice(list("0123456789"))
            if not nxt or nxt.isalnum():
                return _Item()  # \w, \b, \x41, \1 ...: not a plain literal
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


def _class_members(body: str) -> list[str] | None:
    """The characters of a simple positive class body ('0-4', '137', 'a.'), else None."""
    if not body or body.startswith("^"):
        return None
    chars: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            nxt = body[i + 1 : i + 2]
            if not nxt or nxt.isalnum():
                return None  # \d, \w, \s inside a class: too wide to spell out
            chars.append(nxt)
            i += 2
            continue
        if i + 2 < len(body) and body[i + 1] == "-" and body[i + 2] != "\\":
            lo, hi = ord(ch), ord(body[i + 2])
            if hi < lo or hi - lo >= MAX_CLASS:
                return None
            chars.extend(chr(c) for c in range(lo, hi + 1))
            i += 3
            continue
        chars.append(ch)
        i += 1
    members = sorted({c.lower() for c in chars})
    return members if len(members) <= MAX_CLASS else None


def _choice(members: list[str] | None) -> _Item:
    """A small set of single characters as a group of alternatives (else an opaque atom)."""
    if not members:
        return _Item()
    return _Item(branches=[[_Item(char=c)] for c in members])


def _expand(items: list[_Item]) -> list[str] | None:
    """Every string a sequence of plain atoms can match, when there are at most MAX_SPELLED."""
    outs = [""]
    for item in items:
        if item.optional or item.repeated:
            return None
        if item.branches is not None:
            alts: list[str] = []
            for branch in item.branches:
                got = _expand(branch)
                if got is None:
                    return None
                alts.extend(got)
        elif item.char:
            alts = [item.char]
        else:
            return None
        outs = [o + a for o in outs for a in alts]
        if len(outs) > MAX_SPELLED:
            return None
    return outs


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
    return [w for w in re.findall(WORD, text.lower()) if len(w) >= MIN_TOKEN]


def _branch_set(items: list[_Item]) -> _TokenSet | None:
    return _best(_branch_candidates(items))


def _branch_candidates(items: list[_Item]) -> list[_TokenSet]:
    """Every token set a match of this branch must hit (each one is required)."""
    candidates: list[_TokenSet] = []
    # The literal text read so far, spelled out through small groups and classes (50[0-4]).
    runs: list[str] = [""]

    def flush() -> None:
        phrases = {" ".join(run.lower().split()) for run in runs}
        if min(map(len, phrases)) >= MIN_TOKEN:
            candidates.append(frozenset(phrases))
        runs[:] = [""]

    for item in items:
        if item.optional:
            flush()
            continue
        if item.branches is not None:
            spelled = None if item.repeated else _expand([item])
            if spelled is not None and len(runs) * len(spelled) <= MAX_SPELLED:
                runs[:] = [run + tail for run in runs for tail in spelled]
                continue
            flush()
            group = _alternation_set(item.branches)
            if group is not None:
                candidates.append(group)
            continue
        if not item.char:
            flush()
            continue
        runs[:] = [run + item.char for run in runs]
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
