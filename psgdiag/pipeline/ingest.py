"""Bytes in, text out: BOM/UTF-16 detection, tolerant decoding, line splitting.

Only this module (with the CLI and the network parts) touches files and streams. Inputs larger
than FULL_READ_LIMIT are not decoded whole: `psgdiag.scan` finds the candidate regions on raw
bytes and only those are decoded (see DESIGN.md §2).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from psgdiag import regexcode
from psgdiag.errors import InputError
from psgdiag.record import record

#: Inputs up to this size are decoded whole; larger ones are scanned in chunks.
FULL_READ_LIMIT = 16 * 1024 * 1024

_NEWLINE = regexcode.compile(r"\r\n|\r|\n")


@record
class RawText:
    """Decoded text plus where it came from and which line it starts at."""

    text: str
    encoding: str
    source: str
    first_line: int = 1


def detect_encoding(head: bytes) -> str:
    """Guess the encoding of a byte string from its first bytes (BOM, then NUL pattern)."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith(b"\xff\xfe"):
        return "utf-16-le-bom"
    if head.startswith(b"\xfe\xff"):
        return "utf-16-be-bom"
    sample = head[:4096]
    if len(sample) >= 8:
        even_nuls = sample[0::2].count(0)
        odd_nuls = sample[1::2].count(0)
        half = len(sample) // 2
        # UTF-16 without a BOM: ASCII text leaves every other byte NUL.
        if odd_nuls > half * 0.6 and even_nuls < half * 0.1:
            return "utf-16-le"
        if even_nuls > half * 0.6 and odd_nuls < half * 0.1:
            return "utf-16-be"
    return "utf-8"


_UTF8_MULTI = regexcode.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_HIGH = regexcode.compile(rb"[\x80-\xff]")


def _legacy_or_utf8(data: bytes) -> str:
    """Tell a Windows ANSI (cp1252) file from UTF-8 with a few damaged bytes.

    `Out-File -Encoding Default` on Windows PowerShell writes the ANSI code page: its accented
    letters are single high bytes that are not valid UTF-8 sequences.
    """
    sample = data[: 1 << 20]
    multi = len(_UTF8_MULTI.findall(sample))
    high = len(_HIGH.findall(sample))
    stray = high - sum(len(m) for m in _UTF8_MULTI.findall(sample))
    return "cp1252" if stray > multi else "utf-8"


def decode(data: bytes, source: str = "<stdin>") -> RawText:
    """Decode bytes tolerantly: undecodable bytes become U+FFFD, NULs are dropped."""
    enc = detect_encoding(data[:4096])
    if enc == "utf-8-sig":
        text = data[3:].decode("utf-8", "replace")
    elif enc.startswith("utf-16"):
        codec = "utf-16-le" if "le" in enc else "utf-16-be"
        body = data[2:] if enc.endswith("bom") else data
        if len(body) % 2:
            body = body[:-1]
        text = body.decode(codec, "replace")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            enc = _legacy_or_utf8(data)
            text = data.decode(enc, "replace")
    if "\x00" in text:
        text = text.replace("\x00", "")
    return RawText(text=text, encoding=enc, source=source)


def split_lines(text: str) -> list[str]:
    """Split on CRLF, CR or LF only (str.splitlines would also split on form feeds etc.)."""
    lines = _NEWLINE.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def open_input(name: str, stdin: BinaryIO | None) -> tuple[BinaryIO, str, int | None]:
    """Open a named file (or '-' for stdin); return the stream, a display name and its size."""
    if name == "-":
        if stdin is None:
            raise InputError("standard input is closed", hint="pass a file name instead")
        return stdin, "<stdin>", None
    path = Path(name)
    if path.is_dir():
        raise InputError(
            f"{name} is a directory, not a log file",
            hint="pass a file, or use `psgdiag triage DIR` for a folder of logs",
        )
    try:
        fh = path.open("rb")
        size = os.fstat(fh.fileno()).st_size
    except FileNotFoundError:
        raise InputError(f"{name}: no such file", hint="check the path") from None
    except PermissionError:
        raise InputError(
            f"{name}: permission denied", hint="check the file's permissions"
        ) from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror})", hint="check the path") from None
    return fh, name, size


def read_all(stream: BinaryIO, name: str, limit: int = -1) -> bytes:
    """Read a whole stream (or its first `limit` bytes), turning OS errors into InputError."""
    try:
        if limit < 0:
            return stream.read()
        parts: list[bytes] = []
        got = 0
        while got < limit:  # a pipe may return less than asked before its end
            part = stream.read(limit - got)
            if not part:
                break
            parts.append(part)
            got += len(part)
        return b"".join(parts)
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror})", hint="check the input") from None


def iter_chunks(stream: BinaryIO, size: int = 4 * 1024 * 1024) -> Iterator[bytes]:
    """Yield the stream in chunks of at most `size` bytes."""
    while True:
        chunk = stream.read(size)
        if not chunk:
            return
        yield chunk
