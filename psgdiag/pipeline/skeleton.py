"""Language-neutral skeletons: the parts of a message that a translation leaves as they are.

A console in a language nobody catalogued still prints, inside the translated sentence, the
names a translator must not touch: cmdlets (Get-PSRepository), parameters (-Scope), product and
type names (NuGet, PowerShellGet, System.IO), file names, versions, URLs, quoted literals
('PackageManagement', "-Scope CurrentUser"), and the quoted values the program fills in. Together
with the error record's identity (CategoryInfo's category, exception type and command) these
pick out which catalogued message an unreadable record is (psgdiag.pipeline.byshape).
"""

from __future__ import annotations

from psgdiag import regexcode
from psgdiag.pipeline.textview import compact, fold
from psgdiag.record import record

_QUOTED = regexcode.compile(
    "'([^'\\n]{0,300})'|\"([^\"\\n]{0,300})\"|\u2018([^\u2019\\n]{0,300})\u2019"
    "|\u201c([^\u201d\\n]{0,300})\u201d|\u00ab\\s?([^\u00bb\\n]{0,300}?)\\s?\u00bb"
    "|\u300c([^\u300d\\n]{0,300})\u300d"
)
_IDENTIFIER = regexcode.compile(
    r"^(?:"
    r"[A-Z][a-z]+-[A-Z][A-Za-z]+"  # a cmdlet: Get-PSRepository
    r"|-[A-Za-z]{2,}"  # a parameter: -Scope
    r"|[A-Z]?[a-z]+[A-Z][A-Za-z0-9]*"  # NuGet, PowerShellGet, InstallationPolicy
    r"|[A-Z]{2,}[a-z][A-Za-z0-9]*"  # PSGallery, PSRepository
    r"|[A-Za-z][\w-]*(?:\.[A-Za-z0-9][\w-]*)+"  # NuGet.exe, System.IO.Compression
    r"|\d+(?:\.\d+)+"  # a version: 2.8.5.201
    r"|[a-z][a-z0-9+.-]*://\S+"  # a URL
    r")$"
)
_EDGE = "()[]{},;:!?.\u3002\uff0c\u3001"


@record
class Skeleton:
    """What of a text survives translation: identifier tokens and how many quoted values."""

    tokens: frozenset[str]
    quotes: int
    words: int = 0  # whitespace-separated words; 0 for scripts written without spaces


#: A text whose words average more characters than this is not written with spaces (CJK).
_SPACED_WORD = 12


def skeleton(text: str, *, template: bool = False) -> Skeleton:
    """The skeleton of a printed text, or of a template (`{slot}` quoted values count as quotes)."""
    tokens: set[str] = set()
    quotes = 0
    for m in _QUOTED.finditer(text):
        inner = next(g for g in m.groups() if g is not None).strip()
        quotes += 1
        # a template's quoted slot is a value the program fills in: no token of its own
        if inner and not (template and "{" in inner):
            tokens.add(_key(inner))
    rest = _QUOTED.sub(" ", text)
    for word in rest.split():
        word = word.strip(_EDGE)
        if word and "{" not in word and _IDENTIFIER.match(word):
            tokens.add(_key(word))
    return Skeleton(frozenset(tokens), quotes, _words(text))


def _unspaced(text: str) -> bool:
    """Kana, CJK ideographs or Hangul: scripts written without spaces between words (a
    character test: a regex class over these ranges costs milliseconds to compile)."""
    return any(
        "\u3040" <= ch <= "\u30ff" or "\u3400" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af"
        for ch in text
    )


def _words(text: str) -> int:
    """How many words a text prints (a translation keeps roughly as many), 0 when unspaced."""
    words = text.split()
    if not words or _unspaced(text) or len(text) / len(words) > _SPACED_WORD:
        return 0
    return len(words)


def quoted_values(text: str) -> list[str]:
    """The quoted values of a text, in order (a template's are its quoted `{slot}` names)."""
    return [next(g for g in m.groups() if g is not None).strip() for m in _QUOTED.finditer(text)]


def _key(token: str) -> str:
    """A token as compared: lower case, no spaces, PowerShellGet's package/module rewrite folded
    (Get-PackageSource is printed as Get-PSRepository)."""
    return fold(compact(token))


def agreement(template: Skeleton, printed: Skeleton) -> tuple[int, float]:
    """(identifier tokens of the template found in the printed text, their share)."""
    if not template.tokens:
        return 0, 0.0
    found = len(template.tokens & printed.tokens)
    return found, found / len(template.tokens)
