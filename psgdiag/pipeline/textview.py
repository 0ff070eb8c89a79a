"""The two text views of a document that evidence is matched against (message-catalog.md §1).

- the *compact* view: lower case, all whitespace removed, so words and FQIDs that a console
  wrapped mid-word still match (rule 6, rule 8); literals also accept the PowerShellGet
  package/module and source/repository rewrites (rule 4) and `?` for any non-ASCII letter
  (Windows PowerShell pipes text to programs as ASCII). A *folded* copy spells the rewrite one
  way, so ASCII literals are found by plain substring search;
- the *spaced* view: lines joined by one space, whitespace collapsed, for `regex` evidence
  (RE2 on its UTF-8 bytes).
Both keep offsets back to the original line numbers.
"""

from __future__ import annotations

import bisect
import re
from functools import lru_cache

from psgdiag.model import Document
from psgdiag.record import record

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
SYN_RX = re.compile("|".join(k for k, _ in _SYNONYMS))
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
SYN_MAP = dict(_SYNONYMS)
_WS = re.compile(r"\s+")
MAX_HIT_CHARS = 400
MIN_ASCII_ANCHOR = 12  # ASCII letters a mostly non-ASCII literal needs before "?" may stand in


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
        m = SYN_RX.match(text, i)
        if m:
            out.append(SYN_MAP[m.group(0)])
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
def folded_literal(literal: str) -> str:
    return fold(compact(literal))


def text_needle(pattern: str) -> str:
    """What a `text` evidence looks for: folded when ASCII, else compact (see Matcher._text)."""
    return folded_literal(pattern) if pattern.isascii() else compact(pattern)


@record(frozen=False)
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
        return text if len(text) <= MAX_HIT_CHARS else text[: MAX_HIT_CHARS - 1] + "…"

    def stream_at(self, line_no: int) -> str:
        """Return the stream of the first cleaned line with this original number."""
        for ln in self.doc.lines:
            if ln.no == line_no:
                return ln.stream
        return ""
