"""Byte streams for the big-input path: chunked reads, UTF-8 transcoding, replaying a read head."""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from typing import Any, BinaryIO

from psgdiag.errors import InputError


def read_chunks(stream: BinaryIO, name: str, size: int) -> Iterator[bytes]:
    """Yield the stream in chunks of `size` bytes; an OS error becomes an InputError."""
    while True:
        try:
            chunk = stream.read(size)
        except OSError as exc:
            raise InputError(
                f"{name}: cannot read ({exc.strerror})", hint="check the input"
            ) from None
        if not chunk:
            return
        yield chunk


def utf8_chunks(first: bytes, rest: Iterator[bytes], enc: str) -> Iterator[bytes]:
    """Yield the input as UTF-8 bytes without a BOM (UTF-16 is transcoded chunk by chunk)."""
    if not enc.startswith("utf-16"):
        yield first[3:] if enc == "utf-8-sig" else first
        yield from rest
        return
    codec = "utf-16-le" if "le" in enc else "utf-16-be"
    dec = codecs.getincrementaldecoder(codec)("replace")
    yield dec.decode(first[2:] if enc.endswith("bom") else first).encode("utf-8", "replace")
    for raw in rest:
        yield dec.decode(raw).encode("utf-8", "replace")
    # A trailing odd byte is dropped, as ingest.decode does.


class _Prefixed(io.RawIOBase):
    """A stream that first returns `head`, then the rest of another stream."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        if len(self._head):
            n = min(len(buf), len(self._head))
            buf[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buf))
        buf[: len(data)] = data
        return len(data)


def prefixed(head: bytes, rest: BinaryIO) -> BinaryIO:
    """Return a stream that replays the bytes already read, then continues with `rest`."""
    return io.BufferedReader(_Prefixed(head, rest), buffer_size=1024 * 1024)
