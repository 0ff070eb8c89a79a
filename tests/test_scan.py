"""psgdiag.pipeline.bigfile: huge inputs scanned on bytes give the same lines, numbers and diagnoses."""

from __future__ import annotations

import io
from typing import BinaryIO

import pytest

from psgdiag import api
from psgdiag.kb.prefilter import literal_patterns, scan_patterns
from psgdiag.kb.regexlit import regex_tokens
from psgdiag.model import Document, KnowledgeBase, Line
from psgdiag.pipeline.bigfile import Limits, scan_stream
from psgdiag.pipeline.bytestream import prefixed
from psgdiag.pipeline.ingest import decode
from psgdiag.pipeline.normalize import normalize

FAILURE = (
    "Install-Module : Package 'Az.Accounts' failed to be installed because: End of Central Direc\n"
    "tory record could not be found.\n"
    "At C:\\Program Files\\WindowsPowerShell\\Modules\\PowerShellGet\\1.0.0.1\\PSModule.psm1:1809\n"
    "    + CategoryInfo          : InvalidResult: (Az.Accounts:String) [Install-Package], Exception\n"
    "    + FullyQualifiedErrorId : Package '{0}' failed to be installed because: {1},Microsoft.Po\n"
    "werShell.PackageManagement.Cmdlets.InstallPackage\n"
)
SMALL = Limits(chunk=1000, before=4, after=6, head=5, tail=5, side_bytes=4000, edge_bytes=8000)


def noise(lines: int, start: int = 0) -> str:
    """CI-looking lines that carry no anchor."""
    return "".join(
        f"2024-05-03T10:00:{i % 60:02d}.0000000Z [{i}] Compiling src/lib/unit_{i}.c\n"
        for i in range(start, start + lines)
    )


def scan(data: bytes, kb: KnowledgeBase, limits: Limits = SMALL) -> Document:
    return scan_stream(io.BytesIO(data), "big.log", kb, limits)


def by_number(doc: Document) -> dict[int, list[Line]]:
    out: dict[int, list[Line]] = {}
    for line in doc.lines:
        out.setdefault(line.no, []).append(line)
    return out


def assert_lines_are_original(scanned: Document, data: bytes) -> None:
    """Every scanned line is the full read's line with the same number."""
    full = by_number(normalize(decode(data, "big.log")))
    for line in scanned.lines:
        assert line in full[line.no], (line, full.get(line.no))


def test_wrapped_failure_at_the_end_is_found_with_its_original_line(kb: KnowledgeBase) -> None:
    text = noise(3000) + FAILURE + noise(20, 3000)
    data = text.encode()
    doc = scan(data, kb)
    assert len(doc.lines) < 200  # only regions were decoded
    assert doc.total_lines == text.count("\n")
    assert_lines_are_original(doc, data)
    report = api.diagnose_document(doc, kb=kb)
    assert report.diagnoses[0].signature.id == "corrupt-package-download"
    first = 3000 + 1
    assert {h.line_start for h in report.diagnoses[0].hits} <= {first, first + 1, first + 4}


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16-le", "utf-16-be"])
def test_line_numbers_survive_every_encoding_and_newline(
    kb: KnowledgeBase, newline: str, encoding: str
) -> None:
    text = (noise(400) + FAILURE + noise(30, 400)).replace("\n", newline)
    data = text.encode(encoding)
    if encoding.startswith("utf-16"):
        data = ("\ufeff").encode(encoding) + data
    doc = scan(data, kb)
    assert_lines_are_original(doc, data)
    report = api.diagnose_document(doc, kb=kb)
    assert report.diagnoses[0].signature.id == "corrupt-package-download"
    assert min(h.line_start for h in report.diagnoses[0].hits) == 401


@pytest.mark.parametrize("chunk", [1, 7, 64, 4096])
def test_chunk_boundaries_never_split_an_anchor_or_a_line(kb: KnowledgeBase, chunk: int) -> None:
    data = (noise(60) + FAILURE + noise(10, 60)).encode()
    limits = Limits(chunk=chunk, before=2, after=6, head=1, tail=1, side_bytes=4000)
    doc = scan(data, kb, limits)
    assert_lines_are_original(doc, data)
    nos = {line.no for line in doc.lines}
    assert set(range(61, 67)) <= nos  # the whole wrapped record, whatever the chunk size


def test_head_and_tail_are_always_kept(kb: KnowledgeBase) -> None:
    header = (
        "**********************\nWindows PowerShell transcript start\nStart time: 20160711093000\n"
    )
    data = (header + noise(2000)).encode()
    doc = scan(data, kb)
    nos = sorted({line.no for line in doc.lines})
    assert nos[:3] == [1, 2, 3] and nos[-1] == 2003
    assert any("Start time: 20160711093000" in line.raw for line in doc.lines)


def test_a_giant_line_is_cut_into_bounded_windows(kb: KnowledgeBase) -> None:
    giant = "x" * 300_000 + " Exception calling Install " + "y" * 300_000
    data = (noise(10) + giant + "\n" + noise(10, 10)).encode()
    doc = scan(data, kb, Limits(chunk=50_000, side_bytes=2000, edge_bytes=4000))
    assert sum(len(line.raw) for line in doc.lines) < 60_000
    windows = [line for line in doc.lines if line.no == 11]
    assert windows and any("Exception calling" in line.raw for line in windows)
    full = normalize(decode(data))
    for line in windows:  # a window is a piece of the original line, with its number
        assert line.raw in next(f.raw for f in full.lines if f.no == 11)


def test_dense_general_hits_stay_within_the_budget(kb: KnowledgeBase) -> None:
    dense = "".join(f"ERROR: step {i} failed, retrying\n" for i in range(20_000))
    data = (dense + FAILURE + noise(5)).encode()
    limits = Limits(chunk=64 * 1024, budget=32 * 1024, region_bytes=8 * 1024)
    doc = scan(data, kb, limits)
    assert sum(len(line.raw) + 1 for line in doc.lines) < 120 * 1024
    report = api.diagnose_document(doc, kb=kb)
    assert report.diagnoses[0].signature.id == "corrupt-package-download"


def test_empty_and_anchorless_inputs(kb: KnowledgeBase) -> None:
    assert scan(b"", kb).lines == ()
    doc = scan(noise(50).encode(), kb)
    assert [line.no for line in doc.lines] == [1, 2, 3, 4, 5, 46, 47, 48, 49, 50]  # head, tail
    assert doc.total_lines == 50


class _Recorder(io.BytesIO):
    """A pipe-like stream that records how much each read asked for."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.asked: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        self.asked.append(-1 if size is None else size)
        return super().read(size)


def test_big_stdin_is_scanned_not_read_whole(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api, "FULL_READ_LIMIT", 10_000)
    data = (noise(2000) + FAILURE).encode()
    stream = _Recorder(data)
    doc = api.read_document(stream, "<stdin>", None, kb)
    assert -1 not in stream.asked and max(stream.asked) <= 4 * 1024 * 1024
    assert len(doc.lines) < 500
    assert api.diagnose_document(doc, kb=kb).diagnoses[0].signature.id == (
        "corrupt-package-download"
    )


def test_prefixed_stream_replays_the_head_then_the_rest() -> None:
    rest: BinaryIO = io.BytesIO(b"world")
    stream = prefixed(b"hello ", rest)
    assert stream.read(3) + stream.read() == b"hello world"


def test_regex_tokens_are_required_by_every_match() -> None:
    # a small group of literal alternatives is spelled out with the text around it
    assert regex_tokens(r"Unable to (?:resolve|find) packages?") == frozenset(
        {"unable to resolve package", "unable to find package"}
    )
    assert regex_tokens(r"\((?:401|50[0-2])\) [A-Z]") == frozenset(
        {"(401)", "(500)", "(501)", "(502)"}
    )
    # spelling stops where it would pass 128 variants: the spelled prefix is still required
    assert regex_tokens(r"HTTP 5\d\d\d") == frozenset(f"http {n}" for n in range(500, 600))
    # a negated class is never spelled out: it ends the literal run
    assert regex_tokens(r"code [^0-9]x|timeout") == frozenset({"code", "timeout"})
    assert regex_tokens(r"colou?r\s+codes") == frozenset({"codes"})
    assert regex_tokens(r"Central Directory corrupt|A local file header is corrupt") == frozenset(
        {"central directory corrupt", "a local file header is corrupt"}
    )
    assert regex_tokens(r"abc|de") is None  # a branch without a usable literal: no prefilter
    assert regex_tokens(r"a)b") is None


def test_anchors_come_from_the_kb_and_tolerate_console_wraps(kb: KnowledgeBase) -> None:
    import re2

    literal = "End of Central Directory record could not be found."
    pats = literal_patterns(literal)
    assert len(pats) == 2
    wrapped = b"End of Central Direc\ntory record could not\n be found."
    assert any(re2.search(p.encode(), wrapped.lower()) for p in pats)
    triples = [(e.kind, e.pattern, e.statuses) for s in kb.signatures for e in s.evidence]
    assert len(scan_patterns(triples)) > len(kb.signatures)


@pytest.mark.parametrize("seed", range(4))
def test_the_two_thread_search_keeps_the_same_regions(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """Splitting long stretches between two threads keeps exactly the one-thread regions."""
    import random

    from psgdiag.pipeline import bigfile

    rng = random.Random(seed)
    parts = []
    for i in range(40):  # anchors here and there, sometimes right where a stretch is halved
        parts.append(noise(rng.randrange(1, 300), i * 1000))
        parts.append(rng.choice([FAILURE, "WARNING: Unable to download from URI\n", "ERROR: x\n"]))
    data = "".join(parts).encode()
    limits = Limits(chunk=20_000, before=3, after=4, head=2, tail=2, side_bytes=600)
    monkeypatch.setattr(bigfile, "PARALLEL_BYTES", 256)
    monkeypatch.setattr(bigfile.os, "cpu_count", lambda: 2)
    two = scan(data, kb, limits)
    monkeypatch.setattr(bigfile.os, "cpu_count", lambda: 1)
    one = scan(data, kb, limits)
    assert [(x.no, x.raw) for x in two.lines] == [(x.no, x.raw) for x in one.lines]
    assert_lines_are_original(two, data)
