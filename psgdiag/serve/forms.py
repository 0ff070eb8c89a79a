"""Read a multipart/form-data body into text fields and uploaded files, in memory only.

Parts are collected as the body streams in, with python-multipart's parser; nothing is spooled
to a temporary file (the body as a whole is bounded by psgdiag.serve.guard).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from python_multipart.multipart import MultipartParser, parse_options_header

from psgdiag.record import record
from psgdiag.serve.guard import ApiError
from psgdiag.serve.jobs import Upload

MAX_PARTS = 1000


@record
class Form:
    """The text fields (last value wins) and the uploaded files, in order."""

    fields: dict[str, str]
    uploads: tuple[Upload, ...]


class _Collector:
    """Callbacks for the streaming parser: each part's headers and bytes."""

    def __init__(self) -> None:
        self.parts: list[tuple[bytes, bytearray]] = []  # (content-disposition, data)
        self._field = bytearray()
        self._value = bytearray()
        self._disposition = b""

    def part_begin(self) -> None:
        if len(self.parts) >= MAX_PARTS:
            raise ApiError(400, f"the form has more than {MAX_PARTS} parts", "send fewer files")
        self._disposition = b""

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def header_end(self) -> None:
        if bytes(self._field).lower() == b"content-disposition":
            self._disposition = bytes(self._value)
        self._field.clear()
        self._value.clear()

    def headers_finished(self) -> None:
        self.parts.append((self._disposition, bytearray()))

    def part_data(self, data: bytes, start: int, end: int) -> None:
        self.parts[-1][1].extend(data[start:end])


async def read_form(content_type: str, stream: AsyncIterator[bytes]) -> Form:
    """Parse a multipart/form-data body; raise ApiError (400) when it is malformed."""
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise ApiError(400, "the multipart body has no boundary", "let the client build the form")
    got = _Collector()
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": got.part_begin,
            "on_part_data": got.part_data,
            "on_header_field": got.header_field,
            "on_header_value": got.header_value,
            "on_header_end": got.header_end,
            "on_headers_finished": got.headers_finished,
        },
    )
    try:
        async for chunk in stream:
            parser.write(chunk)
        parser.finalize()
    except ValueError as exc:  # python-multipart's FormParserError is a ValueError
        raise ApiError(400, "the multipart body is malformed", "let the client build it") from exc
    fields: dict[str, str] = {}
    uploads: list[Upload] = []
    for disposition, data in got.parts:
        _, options = parse_options_header(disposition)
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in options:
            filename = options[b"filename"].decode("utf-8", "replace")
            if filename or data:  # an empty file input still sends an empty part
                uploads.append(Upload(filename.replace("\\", "/").rsplit("/", 1)[-1], bytes(data)))
        elif name:
            fields[name] = data.decode("utf-8", "replace")
    return Form(fields, tuple(uploads))
