"""Text -> Document: strip what consoles and CI runners add, keep the original line numbers.

Every rule names the quirk it exists for (message-catalog.md §1). Joining of console-wrapped
lines is not done here: the matcher works on a whitespace-free index of the whole document
(rule 6), so a word or FQID split across lines still matches.
"""

from __future__ import annotations

import re
from functools import lru_cache

from psgdiag import regexcode
from psgdiag.cache import data_toml
from psgdiag.model import Document, Line
from psgdiag.pipeline.ingest import RawText, split_lines
from psgdiag.record import record

# ANSI colour and cursor sequences (PowerShell 7 colours errors; GitHub keeps the codes).
# A log copied from a CI web page loses the ESC but keeps the colour codes: "[31;1mLine |[0m".
_ANSI = regexcode.compile(
    r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b"
    r"|\[(?:[0-9]{1,3};)*[0-9]{1,3}m"
)
# GitHub Actions / Azure Pipelines prefix every line with an ISO 8601 timestamp.
_CI_TIME = regexcode.compile(r"^\ufeff?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z?:?\s?")
# Runner markers: ##[error], ##[section], ##vso[...] logging commands, ::error:: workflow commands.
_CI_MARK = regexcode.compile(
    r"^\s*(?:##\[[a-z]+\]|##vso\[[^\]]*\]|::(?:error|warning|notice|debug|group|endgroup)"
    r"[^:]*::)\s?",
    re.IGNORECASE,
)
# Packer and similar tools prefix provisioner output with the builder name ("    azure-arm: ").
_BUILDER = regexcode.compile(r"^(?:==> )?[a-z0-9]+(?:-[a-z0-9]+)+: ")
# Markdown and e-mail quoting.
_QUOTE = regexcode.compile(r"^(?:\s{0,3}>(?!>\s*\w+Error)\s?)+")
# Markdown code fences carry nothing.
_FENCE = regexcode.compile(r"^\s*(?:```|~~~)[\w-]*\s*$")
# PowerShell 7 ConciseView gutter: "Line |", "  12 |  code", "     | message".
_GUTTER = regexcode.compile(r"^\s*(?:\d+\s+)?\|(?: |$)")
# A console buffer copied as one line pads each row with spaces (wide windows).
_PADDING = regexcode.compile(r"\s{24,}")
_SPACES = regexcode.compile(r"\s+")


@record
class Framing:
    """Stream prefixes and UI-language markers, from data/framing.toml."""

    streams: tuple[tuple[str, str, str], ...]  # (prefix-lowercased, stream, locale)
    markers: tuple[tuple[str, str], ...]  # (marker-lowercased, locale)
    positions: tuple[str, ...] = ()  # how the engine's position line starts, in every language


@lru_cache(maxsize=1)
def load_framing() -> Framing:
    """Load the framing table shipped with the package."""
    raw = data_toml("framing.toml")
    streams: list[tuple[str, str, str]] = []
    markers: list[tuple[str, str]] = []
    for loc, spec in raw["locale"].items():
        for stream, prefixes in spec.get("streams", {}).items():
            streams.extend((p.lower(), stream, loc) for p in prefixes)
        markers.extend((m.lower(), loc) for m in spec.get("markers", []))
    streams.sort(key=lambda s: -len(s[0]))
    positions = sorted({p for spec in raw["locale"].values() for p in spec.get("position", [])})
    return Framing(tuple(streams), tuple(markers), tuple(positions))


def clean_line(raw: str) -> tuple[str, bool]:
    """Strip colour codes, CI prefixes, quoting and gutters; return (text, had_ci_timestamp)."""
    text, stamped = _unprefixed(raw)
    if _FENCE.match(text):
        return "", stamped
    if _GUTTER.match(text):
        text = _GUTTER.sub("", text, count=1)
    return text, stamped


def in_gutter(raw: str) -> bool:
    """Whether a raw line sits in PowerShell 7's concise-view gutter ("     | message")."""
    return _GUTTER.match(_unprefixed(raw)[0]) is not None


def _unprefixed(raw: str) -> tuple[str, bool]:
    """A raw line without colour codes, CI timestamp and markers, or quoting."""
    text = _ANSI.sub("", raw)
    stamped = False
    m = _CI_TIME.match(text)
    if m:
        stamped = True
        text = text[m.end() :]
        b = _BUILDER.match(text.lstrip())
        if b:
            text = text.lstrip()[b.end() :]
    text = _CI_MARK.sub("", text)
    if text.lstrip().startswith(">"):
        text = _QUOTE.sub("", text)
    return text, stamped


def stream_of(text: str, framing: Framing) -> str:
    """Return the stream a cleaned line belongs to, from its prefix ('' when unknown)."""
    head = text.lstrip()[:32].lower()
    for prefix, stream, _loc in framing.streams:
        if head.startswith(prefix):
            return stream
    return ""


def normalize(raw: RawText, line_numbers: list[int] | None = None) -> Document:
    """Turn decoded text into a Document of cleaned lines that keep their original numbers.

    `line_numbers` gives the original number of each line when the text is a set of regions
    cut from a larger input (see psgdiag.scan); by default lines count from raw.first_line.
    """
    framing = load_framing()
    out: list[Line] = []
    raw_lines = split_lines(raw.text)
    for idx, rline in enumerate(raw_lines):
        no = line_numbers[idx] if line_numbers is not None else raw.first_line + idx
        text, _ = clean_line(rline)
        # A wide console buffer pasted as one line: split the padded rows back apart.
        parts = _PADDING.split(text.strip()) if len(text) > 160 else [text]
        for part in parts:
            cleaned = _SPACES.sub(" ", part).strip()
            out.append(Line(no=no, text=cleaned, raw=rline, stream=stream_of(cleaned, framing)))
    total = line_numbers[-1] if line_numbers else raw.first_line + len(raw_lines) - 1
    return Document(
        lines=tuple(out), encoding=raw.encoding, source=raw.source, total_lines=max(total, 0)
    )


def detect_locales(doc: Document) -> tuple[str, ...]:
    """Return the non-English UI languages whose framing appears in the document."""
    framing = load_framing()
    found: dict[str, None] = {}
    for line in doc.lines:
        low = line.text.lower()
        for prefix, _stream, loc in framing.streams:
            if loc != "en" and low.startswith(prefix):
                found[loc] = None
        for marker, loc in framing.markers:
            if marker in low:
                found[loc] = None
    return tuple(found)
