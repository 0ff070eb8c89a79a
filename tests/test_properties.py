"""Property tests: whatever the input, both readers finish with a report that keeps the invariants
of tests/invariants.py (schema, evidence lines and text from the input, verdict), and the scanner
keeps every line's original number.
"""

from __future__ import annotations

import io
import re

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from psgdiag import api
from psgdiag.kb.regex import compile_regex
from psgdiag.kb.regexlit import regex_requirements_of
from psgdiag.model import Document, KnowledgeBase
from psgdiag.pipeline.bigfile import Limits, scan_stream
from psgdiag.pipeline.ingest import decode, split_lines
from psgdiag.pipeline.normalize import normalize
from tests.conftest import CASES
from tests.invariants import assert_report_holds

# A loaded 2-core machine: no per-example deadline, a modest number of examples.
SETTINGS = settings(
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
SMALL = Limits(chunk=512, before=3, after=5, head=4, tail=4, side_bytes=100_000)


def _case_lines() -> list[str]:
    lines: list[str] = []
    for path in sorted(CASES.glob("*/*.log"))[:60]:
        lines.extend(split_lines(decode(path.read_bytes()).text)[:40])
    return lines or ["Install-Module : No match was found for the specified search criteria."]


CASE_LINES = _case_lines()
KB = api.load_kb()

line_text = st.one_of(
    st.sampled_from(CASE_LINES),
    st.text(max_size=80),
    st.sampled_from(["", "   ", "\x1b[31mERROR:\x1b[0m", "2024-05-03T10:00:00.000Z ##[error]x"]),
)
newline = st.sampled_from(["\n", "\r\n", "\r"])
encoding = st.sampled_from(["utf-8", "utf-8-sig", "utf-16-le", "utf-16-be"])


@st.composite
def logs(draw: st.DrawFn) -> bytes:
    """A log assembled from real case lines and junk, in any encoding and newline style."""
    lines = draw(st.lists(line_text, max_size=60))
    nl = draw(newline)
    enc = draw(encoding)
    text = nl.join(lines) + (nl if draw(st.booleans()) else "")
    data = text.encode(enc, "replace")
    if enc.startswith("utf-16"):
        data = "\ufeff".encode(enc) + data
    return data


def original_lines(data: bytes) -> list[str]:
    return split_lines(decode(data).text)


def assert_lines_are_original(doc: Document, data: bytes) -> None:
    lines = original_lines(data)
    for line in doc.lines:
        assert 1 <= line.no <= len(lines)
        assert line.raw == lines[line.no - 1].replace("\x00", ""), line


@SETTINGS
@given(st.binary(max_size=4000))
def test_arbitrary_bytes_give_a_sound_report_from_either_reader(data: bytes) -> None:
    full = api.read_document(io.BytesIO(data), "x", None, KB)
    assert_report_holds(api.diagnose_document(full, kb=KB), data)
    scanned = scan_stream(io.BytesIO(data), "x", KB, SMALL)
    assert_report_holds(api.diagnose_document(scanned, kb=KB), data)


@SETTINGS
@given(logs())
def test_every_report_on_a_log_keeps_the_invariants(data: bytes) -> None:
    assert_report_holds(api.diagnose_bytes(data, kb=KB), data)


@SETTINGS
@given(logs(), st.sampled_from([1, 3, 64, 512]))
def test_scanned_lines_and_evidence_keep_their_original_numbers(data: bytes, chunk: int) -> None:
    limits = Limits(chunk=chunk, before=3, after=5, head=4, tail=4, side_bytes=100_000)
    doc = scan_stream(io.BytesIO(data), "x", KB, limits)
    assert_lines_are_original(doc, data)
    assert doc.total_lines == len(original_lines(data))
    assert_report_holds(api.diagnose_document(doc, kb=KB), data)


def test_the_full_reader_agrees_with_itself(kb: KnowledgeBase) -> None:
    data = "\r\n".join(CASE_LINES[:200]).encode()
    doc = normalize(decode(data))
    assert_lines_are_original(doc, data)


def _python_compatible_regexes() -> list[str]:
    out = []
    for sig in KB.signatures:
        for ev in sig.evidence:
            if ev.kind == "regex" and ev.pattern.isascii():  # hypothesis generates ASCII here
                try:
                    re.compile(ev.pattern)
                except re.error:
                    continue
                out.append(ev.pattern)
    return sorted(set(out))


KB_REGEXES = _python_compatible_regexes()


@SETTINGS
@given(st.data())
def test_regex_requirements_hold_for_every_match(data: st.DataObject) -> None:
    """Whatever text a signature regex matches holds a phrase of each required set."""
    pattern = data.draw(st.sampled_from(KB_REGEXES))
    text = data.draw(st.from_regex(re.compile(pattern, re.IGNORECASE | re.ASCII)))
    assume(compile_regex(pattern.encode()).search(text.encode()) is not None)  # RE2 agrees
    low = text.lower()
    for need in regex_requirements_of(pattern):
        assert any(p in low for p in need), (pattern, text, need)


_PHRASE = st.text(alphabet="abc ()-5", min_size=3, max_size=8)


@settings(deadline=None, max_examples=200)
@given(
    phrases=st.lists(_PHRASE, max_size=30),
    text=st.text(alphabet="abc ()-5x", max_size=300),
)
def test_trigram_phrase_lookup_equals_searching_every_phrase(phrases: list[str], text: str) -> None:
    from psgdiag.kb.prefilter import phrase_index, present_phrases

    index = phrase_index({"rx": (frozenset(phrases),)} if phrases else {})
    assert present_phrases(text, index) == frozenset(p for p in phrases if p in text)


@settings(deadline=None, max_examples=300)
@given(
    needle=st.text(alphabet="abcde.", min_size=8, max_size=40),
    text=st.text(alphabet="abcdex.", max_size=200),
    cutoff=st.integers(min_value=70, max_value=100),
    edits=st.lists(st.integers(min_value=0, max_value=39), max_size=4),
)
def test_a_fuzzy_match_always_holds_one_gate_piece(
    needle: str, text: str, cutoff: int, edits: list[int]
) -> None:
    from rapidfuzz import fuzz

    from psgdiag.kb.snapshot import fuzzy_pieces

    # plant a lightly edited copy of the needle so that high scores actually occur
    planted = "".join(ch for i, ch in enumerate(needle) if i not in edits)
    text = text[: len(text) // 2] + planted + text[len(text) // 2 :]
    assume(len(text) >= len(needle))
    res = fuzz.partial_ratio_alignment(needle, text, score_cutoff=cutoff)
    if res is not None and res.score >= cutoff:
        pieces = fuzzy_pieces(needle, cutoff)
        assert not pieces or any(piece in text for piece in pieces)
