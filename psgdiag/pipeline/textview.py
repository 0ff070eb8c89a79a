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

from psgdiag import regexcode
from psgdiag.cache import data_toml
from psgdiag.model import Document
from psgdiag.record import record


@record
class Wording:
    """The PowerShellGet package/module and source/repository rewrite (data/wording.toml)."""

    rx: re.Pattern[str]  # any spelling of a group word, longest first
    alternatives: dict[str, str]  # word -> regex accepting every spelling of its group
    fold_rx: re.Pattern[str]
    fold_map: dict[str, str]  # word -> its group's letter(s), "s" for an irregular plural


@lru_cache(maxsize=1)
def wording() -> Wording:
    """Build the synonym tables from data/wording.toml (once per run)."""
    raw = data_toml("wording.toml")
    groups = {g["fold"]: g for g in raw["group"]}
    alternatives: dict[str, str] = {}
    fold_map: dict[str, str] = {}
    for letter, g in groups.items():
        one, many = "|".join(g["singular"]), "|".join(g["plural"])
        for word in g["singular"]:
            alternatives[word] = f"(?:{one})"
            fold_map[word] = letter
        for word, base in zip(g["plural"], g["singular"], strict=True):
            alternatives[word] = f"(?:{many})"
            if not word.startswith(base):  # repositories: not "repository" + "s"
                fold_map[word] = letter + "s"
    for comp in raw.get("compound", []):
        first, second = (groups[letter] for letter in comp["joins"])
        letters = "".join(comp["joins"])
        head = "|".join(first["singular"])
        for number in ("singular", "plural"):
            spelled = f"(?:{head})(?:{'|'.join(second[number])})"
            pattern = f"(?:{spelled}|{'|'.join(comp[number])})"
            suffix = "s" if number == "plural" else ""
            for word in comp[number]:
                alternatives[word] = pattern
                if not re.fullmatch(spelled, word):  # psrepository does not fold letter by letter
                    fold_map[word] = letters + suffix

    def longest_first(words: list[str]) -> re.Pattern[str]:
        return regexcode.compile("|".join(sorted(words, key=lambda w: (-len(w), w))))

    return Wording(
        longest_first(list(alternatives)), alternatives, longest_first(list(fold_map)), fold_map
    )


_WS = regexcode.compile(r"\s+")
MAX_HIT_CHARS = 400
MIN_ASCII_ANCHOR = 12  # ASCII letters a mostly non-ASCII literal needs before "?" may stand in


def compact(text: str) -> str:
    """Lower-case and drop all whitespace."""
    return _WS.sub("", text.lower())


def fold(compact_text: str) -> str:
    """Fold the PowerShellGet package/module and source/repository rewrite to one spelling."""
    w = wording()
    return w.fold_rx.sub(lambda m: w.fold_map[m.group(0)], compact_text)


#: Quote characters that a copy through a word processor, another UI language or a retyped
#: screenshot may swap: any quote stands for any other (the user typed "X' for 'X').
_ANY_QUOTE = "['\u2018\u2019`\u00b4\"\u201c\u201d\u201e\u00ab\u00bb]"
_QUOTE_CLASS = {"'": _ANY_QUOTE, '"': _ANY_QUOTE}
_QUOTE_OF = {
    q: kind
    for kind, chars in (("'", "'\u2018\u2019"), ('"', '"\u201c\u201d\u201e\u00ab\u00bb'))
    for q in chars
}


#: What non-ASCII text turns into on the way to a log: '?' (piped as ASCII), U+FFFD, or UTF-8
#: bytes read as a Latin code page (Latin-1 and cp1252 letters and punctuation). Never another
#: script's letters: a CJK phrase must not match any other CJK text of its length.
_GARBLED = "[?\ufffd\u0080-\u02ff\u2010-\u2017\u2020-\u203a\u20ac\u2122]"


def literal_pattern(literal: str, *, loose_quotes: bool = False) -> str:
    """The compact-view pattern of a literal phrase: synonyms, '?' for non-ASCII, quote styles.

    Works for Python's re and for RE2 alike (RE2 in UTF-8 mode counts characters).
    """
    out: list[str] = []
    text = compact(literal)
    w = wording()
    quotes = _QUOTE_OF if loose_quotes else {}
    i = 0
    while i < len(text):
        m = w.rx.match(text, i)
        if m:
            out.append(w.alternatives[m.group(0)])
            i = m.end()
            continue
        ch = text[i]
        if ch in quotes:
            out.append(_QUOTE_CLASS[quotes[ch]])
            i += 1
            continue
        if ord(ch) > 127:
            j = i
            while j < len(text) and ord(text[j]) > 127 and text[j] not in quotes:
                j += 1
            run = text[i:j]
            out.append(f"(?:{re.escape(run)}|{_GARBLED}{{1,{3 * len(run)}}})")
            i = j
            continue
        out.append(re.escape(ch))
        i += 1
    return "".join(out)


@lru_cache(maxsize=4096)
def literal_regex(literal: str) -> re.Pattern[str]:
    """Build the compact-view regex for a literal phrase (synonyms, '?' for non-ASCII)."""
    return regexcode.compile(literal_pattern(literal))


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
    _compact_bytes: bytes | None = None
    _compact_byte_starts: list[int] | None = None

    def compact_bytes(self) -> tuple[bytes, list[int]]:
        """The compact view as UTF-8 bytes and each line's byte offset (made on first use)."""
        if self._compact_bytes is None or self._compact_byte_starts is None:
            starts: list[int] = []
            parts: list[bytes] = []
            pos = 0
            bounds = [*self.compact_starts, len(self.compact)]
            prev = 0
            for i, start in enumerate(self.compact_starts):
                # a gap marker ("\x00") sits before a line's start: keep it in the bytes
                head = self.compact[prev:start].encode("utf-8", "surrogatepass")
                body = self.compact[start : bounds[i + 1]].encode("utf-8", "surrogatepass")
                parts.append(head)
                pos += len(head)
                starts.append(pos)
                parts.append(body)
                pos += len(body)
                prev = bounds[i + 1]
            self._compact_bytes = b"".join(parts)
            self._compact_byte_starts = starts
        return self._compact_bytes, self._compact_byte_starts

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
