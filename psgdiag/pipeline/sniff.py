"""Is it a text log? Decided by content, never by file name: magic numbers, then the bytes.

A zip, an image, a PDF, a program or random bytes passed to `psgdiag explain` would otherwise be
decoded into noise and answered with "no known cause". `sniff` names what the input is instead.
A log in UTF-16 (every other byte NUL), in a legacy code page (high bytes that are not UTF-8),
with a few damaged bytes, stray NULs or ANSI colours is still text. `psgdiag explain` refuses a
whole input that is not text (exit 4); `psgdiag triage` and the page of `psgdiag serve` give
such a ticket its own row, from the same verdict. `psgdiag run` never refuses: junk in a build
log must not fail a build.
"""

from __future__ import annotations

from psgdiag import regexcode
from psgdiag.errors import InputError
from psgdiag.pipeline.ingest import decode, detect_encoding
from psgdiag.record import record

#: How much of the input is looked at (all of a small one).
SAMPLE = 256 * 1024
#: More control characters than this share of the decoded text: not text.
CONTROL_SHARE = 0.03
#: More U+FFFD replacement characters than this share: not text in any encoding psgdiag reads.
REPLACEMENT_SHARE = 0.30
#: Binary formats pad their records with NUL runs all through the file; a log cut short by a
#: crash has one block of NULs at its end, which does not make it binary.
NUL_RUNS = 8

_NUL_RUN = regexcode.compile(rb"\x00{2,}")
# C0 controls and DEL, except tab, line feed, vertical tab, form feed, carriage return and ESC
# (ANSI colours); NUL is dropped by decoding and counted apart.
_CONTROL = regexcode.compile("[\x01-\x08\x0e-\x1a\x1c-\x1f\x7f]")

ARCHIVE = "psgdiag triage {name} reads every log inside it"
UNPACK = "unpack it and pass the log inside (or zip the logs for psgdiag triage)"
SCREENSHOT = (
    "psgdiag reads text, not pictures: copy the error text from the console, or save it with "
    "`Install-Module ... *> install.log`, and pass that"
)
DOCUMENT = "copy the error text out of the document and pass it as text"
OUTPUT = "pass the text output of the failed install (`Install-Module ... *> install.log`)"


@record
class NotText:
    """What an input that is not a text log is, and what to do instead ({name} is the input)."""

    kind: str  # "a ZIP archive"
    hint: str

    def message(self, name: str) -> str:
        """One sentence: `install.zip is a ZIP archive, not a text log`."""
        shown = "standard input" if name.startswith("<") else name
        return f"{shown} is {self.kind}, not a text log"

    def hint_for(self, name: str) -> str:
        """The hint, naming the input (a file name to save it as, for standard input)."""
        return self.hint.replace("{name}", "file.zip" if name.startswith("<") else name)


# (magic bytes, offset, what it is, hint)
_MAGIC: tuple[tuple[bytes, int, str, str], ...] = (
    (b"PK\x03\x04", 0, "a ZIP archive", ARCHIVE),
    (b"PK\x05\x06", 0, "an empty ZIP archive", ARCHIVE),
    (b"PK\x07\x08", 0, "a ZIP archive", ARCHIVE),
    (b"\x1f\x8b", 0, "a gzip archive", UNPACK),
    (b"7z\xbc\xaf\x27\x1c", 0, "a 7-Zip archive", UNPACK),
    (b"Rar!\x1a\x07", 0, "a RAR archive", UNPACK),
    (b"\xfd7zXZ\x00", 0, "an xz archive", UNPACK),
    (b"\x28\xb5\x2f\xfd", 0, "a zstd archive", UNPACK),
    (b"ustar", 257, "a tar archive", UNPACK),
    (b"MSCF\x00\x00\x00\x00", 0, "a cabinet (.cab) archive", UNPACK),
    (b"\x89PNG\r\n\x1a\n", 0, "a PNG image", SCREENSHOT),
    (b"\xff\xd8\xff", 0, "a JPEG image", SCREENSHOT),
    (b"GIF87a", 0, "a GIF image", SCREENSHOT),
    (b"GIF89a", 0, "a GIF image", SCREENSHOT),
    (b"II*\x00", 0, "a TIFF image", SCREENSHOT),
    (b"MM\x00*", 0, "a TIFF image", SCREENSHOT),
    (b"%PDF-", 0, "a PDF document", DOCUMENT),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        0,
        "an Outlook message or an Office document",
        "save the message as .eml and run psgdiag triage message.eml, or copy its text",
    ),
    (b"\x7fELF", 0, "a program (ELF)", OUTPUT),
    (b"SQLite format 3\x00", 0, "an SQLite database", OUTPUT),
    (
        b"ElfFile\x00",
        0,
        "a Windows event log (.evtx)",
        "export the events as text (`Get-WinEvent ... | Format-List > events.txt`) and pass that",
    ),
)
_OFFICE_XML = (b"[Content_Types].xml", b"word/", b"xl/", b"ppt/")


def _magic(data: bytes) -> NotText | None:
    for magic, offset, kind, hint in _MAGIC:
        if data[offset : offset + len(magic)] == magic:
            if kind.endswith("ZIP archive") and any(m in data[:4096] for m in _OFFICE_XML):
                return NotText("an Office document (Word, Excel, PowerPoint)", DOCUMENT)
            return NotText(kind, hint)
    # Signatures that need two parts, or that a line of text could start with alone.
    if data[:3] == b"BZh" and data[4:10] == b"1AY&SY":
        return NotText("a bzip2 archive", UNPACK)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return NotText("a WebP image", SCREENSHOT)
    if data[:3] == b"\x00\x00\x00" and data[4:8] == b"ftyp":
        return NotText("a video (MP4/MOV)", SCREENSHOT)
    if data[:2] == b"MZ" and b"\x00" in data[2:64]:
        return NotText("a Windows program or DLL", OUTPUT)
    return None


def sniff(data: bytes) -> NotText | None:
    """Return what the input is when it is not a text log; None for text (or nothing at all)."""
    if not data:
        return None
    found = _magic(data)
    if found is not None:
        return found
    head = data[:SAMPLE]
    if not detect_encoding(head[:4096]).startswith("utf-16"):
        nuls = head.count(0)
        if nuls == len(head):
            return NotText("only NUL bytes", OUTPUT)
        if nuls * 100 > len(head) and len(_NUL_RUN.findall(head)) >= NUL_RUNS:
            return NotText("binary data", OUTPUT)
    text = decode(head).text
    if not text.strip():
        return None  # blank: nothing to diagnose, but nothing wrong with it either
    controls = len(_CONTROL.findall(text))
    replaced = text.count("\ufffd")
    if controls > len(text) * CONTROL_SHARE or replaced > len(text) * REPLACEMENT_SHARE:
        return NotText("binary data", OUTPUT)
    return None


def require_text(data: bytes, name: str) -> None:
    """Raise InputError (exit 4) when the input is not a text log; `data` is its first bytes."""
    found = sniff(data[:SAMPLE])
    if found is not None:
        raise InputError(found.message(name), hint=found.hint_for(name))
