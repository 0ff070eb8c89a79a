"""Evidence matchers: (Document, Facts, Signature) -> hits with original line numbers.

Text is matched against two views of the whole document (message-catalog.md §1):
- the *compact* view: lower case, all whitespace removed, so words and FQIDs that a console
  wrapped mid-word still match (rule 6, rule 8); literals also accept the PowerShellGet
  package/module and source/repository rewrites (rule 4) and `?` for any non-ASCII letter
  (Windows PowerShell pipes text to programs as ASCII);
- the *spaced* view: lines joined by one space, whitespace collapsed, for `regex` evidence
  (RE2, case-insensitive, linear time).
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from psgdiag.anchors import literal_required
from psgdiag.kb import compile_regex
from psgdiag.model import Document, Evidence, Facts, FactTest, Hit, Incident, Signature, Strength

# Synonym groups for the PowerShellGet rewrite of PackageManagement texts (catalog §1 rule 4).
_ONE = "(?:package|module|script)"
_MANY = "(?:packages|modules|scripts)"
_SRC_ONE = f"(?:{_ONE}(?:source|repository)|psrepository)"
_SRC_MANY = f"(?:{_ONE}(?:sources|repositories)|psrepositories)"
_SYNONYMS: tuple[tuple[str, str], ...] = (
    ("packagesources", _SRC_MANY),
    ("psrepositories", _SRC_MANY),
    ("packagesource", _SRC_ONE),
    ("psrepository", _SRC_ONE),
    ("repositories", "(?:repositories|sources)"),
    ("sources", "(?:repositories|sources)"),
    ("repository", "(?:repository|source)"),
    ("source", "(?:repository|source)"),
    ("packages", _MANY),
    ("modules", _MANY),
    ("scripts", _MANY),
    ("package", _ONE),
    ("module", _ONE),
    ("script", _ONE),
)
_SYN_RX = re.compile("|".join(k for k, _ in _SYNONYMS))
# Canonical folding of the same rewrite for plain substring search: package/module/script -> M,
# source/repository -> R (so "packagesource", "psrepository" and "modulerepository" all read MR).
_FOLD_RX = re.compile(
    "psrepositories|psrepository|repositories|repository|sources|source|package|module|script"
)
_FOLD_MAP = {
    "psrepositories": "MRs",
    "psrepository": "MR",
    "repositories": "Rs",
    "repository": "R",
    "sources": "Rs",
    "source": "R",
    "package": "M",
    "module": "M",
    "script": "M",
}
_SYN_MAP = dict(_SYNONYMS)
_WS = re.compile(r"\s+")
_MAX_HIT_CHARS = 400
_MIN_ASCII_ANCHOR = 12


def compact(text: str) -> str:
    """Lower-case and drop all whitespace."""
    return _WS.sub("", text.lower())


def fold(compact_text: str) -> str:
    """Fold the PowerShellGet package/module and source/repository rewrite to one spelling."""
    return _FOLD_RX.sub(lambda m: _FOLD_MAP[m.group(0)], compact_text)


@lru_cache(maxsize=4096)
def literal_regex(literal: str) -> re.Pattern[str]:
    """Build the compact-view regex for a literal phrase (synonyms, '?' for non-ASCII)."""
    out: list[str] = []
    text = compact(literal)
    i = 0
    while i < len(text):
        m = _SYN_RX.match(text, i)
        if m:
            out.append(_SYN_MAP[m.group(0)])
            i = m.end()
            continue
        ch = text[i]
        if ord(ch) > 127:
            j = i
            while j < len(text) and ord(text[j]) > 127:
                j += 1
            run = text[i:j]
            out.append(f"(?:{re.escape(run)}|[?\ufffd\u0080-\U0010ffff]{{1,{3 * len(run)}}})")
            i = j
            continue
        out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out))


@lru_cache(maxsize=8192)
def _folded_literal(literal: str) -> str:
    return fold(compact(literal))


_WEAKER = {
    Strength.STRONG: Strength.MEDIUM,
    Strength.MEDIUM: Strength.WEAK,
    Strength.WEAK: Strength.WEAK,
    Strength.CONTEXT: Strength.CONTEXT,
    Strength.AGAINST: Strength.AGAINST,
}
_ERROR_ID = re.compile(r"^[A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*){2,}$")


@lru_cache(maxsize=4096)
def _error_id_rx(error_id: str) -> re.Pattern[str] | None:
    """A word-bounded search for a distinctive CamelCase error id, or None for generic ones."""
    if len(error_id) < 14 or not _ERROR_ID.match(error_id):
        return None
    return re.compile(r"(?<![A-Za-z0-9])" + re.escape(error_id) + r"(?![A-Za-z0-9])", re.IGNORECASE)


@lru_cache(maxsize=8192)
def _regex(pattern: str) -> Any:
    return compile_regex(pattern.encode("utf-8"))


@dataclass
class TextIndex:
    """The compact and spaced views of a document, with offsets back to line numbers."""

    doc: Document
    compact: str
    compact_starts: list[int]
    spaced: str
    spaced_starts: list[int]
    spaced_bytes: bytes
    spaced_byte_starts: list[int]
    folded: str
    folded_starts: list[int]

    @classmethod
    def build(cls, doc: Document) -> TextIndex:
        """Index a document once; every matcher reads from it."""
        f_parts: list[str] = []
        f_starts: list[int] = []
        f_pos = 0
        c_parts: list[str] = []
        s_parts: list[str] = []
        c_starts: list[int] = []
        s_starts: list[int] = []
        b_starts: list[int] = []
        b_pos = 0
        c_pos = s_pos = 0
        prev_no = None
        for line in doc.lines:
            # Regions cut from a large input (line numbers jump) must not match across the cut.
            gap = prev_no is not None and line.no > prev_no + 1
            sep_c = "\x00" if gap else ""
            c_starts.append(c_pos + len(sep_c))
            piece = sep_c + compact(line.text)
            c_parts.append(piece)
            c_pos += len(piece)
            f_piece = fold(piece)
            f_starts.append(f_pos + len(sep_c))
            f_parts.append(f_piece)
            f_pos += len(f_piece)
            s_starts.append(s_pos)
            s_piece = ("\x00 " if gap else "") + line.text + " "
            s_parts.append(s_piece)
            s_pos += len(s_piece)
            b_starts.append(b_pos)
            b_pos += len(s_piece.encode("utf-8", "surrogatepass"))
            prev_no = line.no
        return cls(
            doc,
            "".join(c_parts),
            c_starts,
            "".join(s_parts),
            s_starts,
            "".join(s_parts).encode("utf-8", "surrogatepass"),
            b_starts,
            "".join(f_parts),
            f_starts,
        )

    def lines_for(self, starts: list[int], begin: int, end: int) -> tuple[int, int]:
        """Map a [begin, end) span of a view to (first, last) original line numbers."""
        lines = self.doc.lines
        if not lines:
            return 0, 0
        a = max(bisect.bisect_right(starts, begin) - 1, 0)
        b = max(bisect.bisect_right(starts, max(end - 1, begin)) - 1, a)
        return lines[a].no, lines[b].no

    def quote(self, first: int, last: int) -> str:
        """Return the cleaned text of original lines first..last, capped in length."""
        parts = [ln.text for ln in self.doc.lines if first <= ln.no <= last and ln.text]
        text = " ".join(parts)
        return text if len(text) <= _MAX_HIT_CHARS else text[: _MAX_HIT_CHARS - 1] + "…"

    def stream_at(self, line_no: int) -> str:
        """Return the stream of the first cleaned line with this original number."""
        for ln in self.doc.lines:
            if ln.no == line_no:
                return ln.stream
        return ""


def _version(text: str) -> tuple[int, ...] | None:
    m = re.match(r"^\s*v?(\d+(?:\.\d+)*)", text)
    return tuple(int(p) for p in m.group(1).split(".")) if m else None


def _compare(left: str, op: str, right: str) -> bool:
    if op in ("~", "!~"):
        try:  # RE2, like every signature regex: a signature's pattern must not be able to hang us
            found = _regex(right).search(left) is not None
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
    for value, line in vals:
        if _compare(value, test.op, test.value):
            return True, line
    return False, 0


class Matcher:
    """Runs every evidence kind against one indexed document."""

    def __init__(
        self,
        index: TextIndex,
        facts: Facts,
        locales: tuple[str, ...] = (),
        incident_for: Callable[[str], Incident | None] | None = None,
        required: Mapping[str, tuple[frozenset[str], ...]] | None = None,
    ) -> None:
        self.index = index
        self.facts = facts
        self.locales = locales
        self.incident_for = incident_for
        # regex -> phrase sets; every match holds one phrase of each (psgdiag.anchors)
        self.required = required or {}
        self._lower_spaced: str | None = None

    def _absent(self, pattern: str) -> bool:
        """True when some phrase set a match of `pattern` needs has no phrase in the document."""
        needs = self.required.get(pattern)
        if not needs:
            return False
        if self._lower_spaced is None:
            self._lower_spaced = self.index.spaced.lower()
        low = self._lower_spaced
        return any(not any(p in low for p in need) for need in needs)

    def _hit(self, ev: Evidence, first: int, last: int, groups: dict[str, str]) -> Hit:
        clean = tuple(sorted((k, v) for k, v in groups.items() if v))
        return Hit(ev.name, ev.strength, ev.kind, first, last, self.index.quote(first, last), clean)

    def _text(self, ev: Evidence) -> Hit | None:
        idx = self.index
        if ev.pattern.isascii():
            # Plain substring search on the folded view: no regex to compile per run.
            pos = idx.folded.find(_folded_literal(ev.pattern))
            if pos >= 0:
                end = pos + len(_folded_literal(ev.pattern))
                first, last = idx.lines_for(idx.folded_starts, pos, end)
                if not ev.stream or idx.stream_at(first) == ev.stream:
                    return self._hit(ev, first, last, {})
        else:
            # Exact (Unicode) first; the '?'-tolerant form only when enough ASCII anchors it,
            # or an all-Japanese phrase would match any run of question marks.
            exact = compact(ev.pattern)
            pos = idx.compact.find(exact)
            if pos >= 0:
                first, last = idx.lines_for(idx.compact_starts, pos, pos + len(exact))
                if not ev.stream or idx.stream_at(first) == ev.stream:
                    return self._hit(ev, first, last, {})
            m = None
            if (
                sum(ch.isascii() and ch.isalnum() for ch in exact) >= _MIN_ASCII_ANCHOR
                and literal_required(ev.pattern) in idx.compact  # else no need to compile
            ):
                m = literal_regex(ev.pattern).search(idx.compact)
            if m:
                first, last = idx.lines_for(idx.compact_starts, m.start(), m.end())
                if not ev.stream or idx.stream_at(first) == ev.stream:
                    return self._hit(ev, first, last, {})
        if ev.fuzzy:
            return self._fuzzy(ev)
        return None

    def _fuzzy(self, ev: Evidence) -> Hit | None:
        from rapidfuzz import fuzz

        idx = self.index
        needle = compact(ev.pattern)
        res = fuzz.partial_ratio_alignment(needle, idx.compact, score_cutoff=ev.fuzzy)
        if res is None or res.score < ev.fuzzy:
            return None
        first, last = idx.lines_for(idx.compact_starts, res.dest_start, res.dest_end)
        return self._hit(ev, first, last, {})

    def _regex(self, ev: Evidence) -> Hit | None:
        idx = self.index
        if self._absent(ev.pattern):
            return None
        m = _regex(ev.pattern).search(idx.spaced_bytes)
        if not m:
            return None
        first, last = idx.lines_for(idx.spaced_byte_starts, m.start(), m.end())
        if ev.stream and idx.stream_at(first) != ev.stream:
            return None
        groups = {
            k.decode() if isinstance(k, bytes) else k: v.decode("utf-8", "replace") if v else ""
            for k, v in m.groupdict().items()
        }
        return self._hit(ev, first, last, groups)

    def _fqid(self, ev: Evidence) -> Hit | None:
        want = compact(ev.pattern)
        for fq in self.facts.fqids:
            have = compact(fq.value)
            if (
                have == want
                or have.startswith(want + ",")
                or ("," in want and have.startswith(want))
            ):
                return self._hit(ev, fq.line, fq.line, {})
        return self._error_id_in_text(ev)

    def _error_id_in_text(self, ev: Evidence) -> Hit | None:
        """An error id quoted outside a FullyQualifiedErrorId field (a ticket, a JSON log).

        Counts one strength level lower: the surrounding record is not there to confirm it.
        """
        if ev.strength in (Strength.CONTEXT, Strength.AGAINST):
            return None  # discriminators (excludes) need the real field, not a mention
        error_id = ev.pattern.split(",", 1)[0].strip()
        if self._lower_spaced is None:
            self._lower_spaced = self.index.spaced.lower()
        if error_id.lower() not in self._lower_spaced:
            return None  # absent: no need to compile its regex
        rx = _error_id_rx(error_id)
        if rx is None:
            return None
        m = rx.search(self.index.spaced)
        if not m:
            return None
        first, last = self.index.lines_for(self.index.spaced_starts, m.start(), m.end())
        hit = self._hit(ev, first, last, {})
        return Hit(hit.evidence, _WEAKER[ev.strength], "fqid-text", first, last, hit.text)

    def _msg_key(self, ev: Evidence) -> Hit | None:
        for mk in self.facts.msg_keys:
            if mk.value.lower() == ev.pattern.lower():
                return self._hit(ev, mk.line, mk.line, {})
        return None

    def _http(self, ev: Evidence) -> Hit | None:
        for code, line in self.facts.http_statuses:
            if code in ev.statuses:
                return self._hit(ev, line, line, {"http_status": str(code)})
        return None

    def _exception(self, ev: Evidence) -> Hit | None:
        want = ev.pattern.lower()
        for exc in self.facts.exceptions:
            have = exc.value.lower()
            if have == want or have.endswith("." + want):
                return self._hit(ev, exc.line, exc.line, {})
        return None

    def _fact(self, ev: Evidence) -> Hit | None:
        assert ev.fact is not None
        ok, line = eval_fact(ev.fact, self.facts, self.locales)
        if not ok:
            return None
        if line:
            return self._hit(ev, line, line, {})
        return Hit(ev.name, ev.strength, ev.kind, 0, 0, f"fact: {ev.pattern}")

    def evidence(self, ev: Evidence, sig: Signature) -> Hit | None:
        """Return the hit for one evidence entry, or None."""
        if ev.kind == "text":
            return self._text(ev)
        if ev.kind == "regex":
            return self._regex(ev)
        if ev.kind == "fqid":
            return self._fqid(ev)
        if ev.kind == "msg_key":
            return self._msg_key(ev)
        if ev.kind == "http_status":
            return self._http(ev)
        if ev.kind == "exception":
            return self._exception(ev)
        if ev.kind == "fact":
            return self._fact(ev)
        if ev.kind == "incident" and self.incident_for is not None:
            inc = self.incident_for(sig.id)
            if inc is not None:
                return Hit(ev.name, ev.strength, ev.kind, 0, 0, f"inside incident {inc.id}")
        return None

    def signature(self, sig: Signature) -> tuple[Hit, ...]:
        """Return every evidence hit of one signature, in evidence order."""
        hits = []
        for ev in sig.evidence:
            hit = self.evidence(ev, sig)
            if hit is not None:
                hits.append(hit)
        return tuple(hits)
