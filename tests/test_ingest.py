"""Decoding and reading: every encoding Windows and CI produce, never a crash."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from psgdiag.errors import InputError
from psgdiag.pipeline.ingest import decode, detect_encoding, open_input, split_lines

TEXT = "PackageManagement\\Install-Package : Package 'Zübehör' failed to be installed\r\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "utf-8-sig"),
        (b"\xff\xfe" + TEXT.encode("utf-16-le"), "utf-16-le-bom"),
        (b"\xfe\xff" + TEXT.encode("utf-16-be"), "utf-16-be-bom"),
        (TEXT.encode("utf-16-le"), "utf-16-le"),
        (TEXT.encode("utf-16-be"), "utf-16-be"),
    ],
)
def test_decodes_every_windows_encoding(data: bytes, encoding: str) -> None:
    raw = decode(data, "x.log")
    assert raw.encoding == encoding
    assert raw.text == TEXT


def test_undecodable_bytes_are_replaced_not_fatal() -> None:
    raw = decode(b"Install-Module : caf\xe9 \x81\x8d failed\n")
    assert raw.text == "Install-Module : caf\xe9 \ufffd\ufffd failed\n"


def test_nuls_are_dropped() -> None:
    assert decode(b"End of\x00 Central\x00 Directory").text == "End of Central Directory"


def test_odd_length_utf16_does_not_crash() -> None:
    data = b"\xff\xfe" + "abc".encode("utf-16-le") + b"\x00"
    assert decode(data).text == "abc"


def test_detect_plain_ascii_is_utf8() -> None:
    assert detect_encoding(b"WARNING: Unable to resolve package source") == "utf-8"


def test_split_lines_cr_crlf_lf_only() -> None:
    assert split_lines("a\r\nb\rc\nd\x0ce\n") == ["a", "b", "c", "d\x0ce"]


def test_open_input_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory"):
        open_input(str(tmp_path), None)
    with pytest.raises(InputError, match="no such file"):
        open_input(str(tmp_path / "missing.log"), None)
    with pytest.raises(InputError, match="standard input is closed"):
        open_input("-", None)


def test_open_input_stdin_passes_stream_through() -> None:
    stream = io.BytesIO(b"x")
    got, name, size = open_input("-", stream)
    assert got is stream and name == "<stdin>" and size is None


def test_windows_ansi_file_is_read_as_cp1252() -> None:
    text = "AVERTISSEMENT : Référentiel non approuvé\r\n"
    raw = decode(text.encode("cp1252"))
    assert raw.encoding == "cp1252" and raw.text == text


def test_utf8_with_one_damaged_byte_stays_utf8() -> None:
    raw = decode("Référentiel non approuvé ".encode() + b"\xff")
    assert raw.encoding == "utf-8"
    assert raw.text == "Référentiel non approuvé \ufffd"
