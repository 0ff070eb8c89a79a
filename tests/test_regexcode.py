"""Stored regex programs (psgdiag.regexcode), widened RE2 patterns and the console script's exit.

These are start-up measures: each must give exactly what the plain route gives.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psgdiag import regexcode
from psgdiag.kb.regex import cached_regex, compile_regex, widened

CASES = Path(__file__).parent / "cases"
SAMPLE = "\n".join(p.read_text("utf-8", "replace") for p in sorted(CASES.rglob("*.log"))[:40])


@pytest.fixture
def fresh_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder and an unloaded store, restored afterwards."""
    monkeypatch.setenv("PSGDIAG_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(regexcode, "_stored", None)
    monkeypatch.setattr(regexcode, "_added", {})
    monkeypatch.setattr(regexcode, "_live", {})
    return tmp_path


PATTERNS: list[tuple[Any, int]] = [
    (r"CategoryInfo\s*:\s*(?P<cat>\w+)\s?:\s*\((?P<target>.*)\)", 0),
    (r"\b(?:Install|Save)-Module\b", re.IGNORECASE),
    (r"^\s*(?:##\[[a-z]+\]|::error::)\s?", re.MULTILINE),
    (rb"(?:[^\n]*\n){3}", 0),
    (r"'([^'\n]{0,300})'|«\s?([^»\n]{0,300}?)\s?»", 0),
]


def _same(a: re.Pattern[str] | re.Pattern[bytes], b: re.Pattern[str] | re.Pattern[bytes]) -> None:
    assert (a.pattern, a.flags, a.groups, dict(a.groupindex)) == (
        b.pattern,
        b.flags,
        b.groups,
        dict(b.groupindex),
    )


def test_a_stored_program_behaves_as_re_compile(fresh_store: Path) -> None:
    for pattern, flags in PATTERNS:
        regexcode.compile(pattern, flags)
    regexcode.save()
    assert list(fresh_store.glob("regex-*.marshal"))
    regexcode._stored = None  # a later run: everything comes from the file
    regexcode._live.clear()
    for pattern, flags in PATTERNS:
        got, want = regexcode.compile(pattern, flags), re.compile(pattern, flags)
        assert not regexcode._added, "a stored pattern was compiled again"
        _same(got, want)
        text: str | bytes = SAMPLE.encode() if isinstance(pattern, bytes) else SAMPLE
        assert [m.span() for m in got.finditer(text)] == [m.span() for m in want.finditer(text)]


def test_every_pipeline_pattern_round_trips(fresh_store: Path) -> None:
    """Each program a real run stores rebuilds the same Pattern as re.compile."""
    paste = sorted((CASES / "tls12-required").glob("*.log"))[0]
    subprocess.run(
        [sys.executable, "-m", "psgdiag", "explain", "-f", "json", str(paste)],
        capture_output=True,
        env=dict(os.environ, PSGDIAG_CACHE_DIR=str(fresh_store)),
        timeout=120,
        check=False,
    )
    stored = regexcode._store()
    assert len(stored) > 60
    for (pattern, flags), entry in stored.items():
        _same(regexcode._from_program(pattern, entry), re.compile(pattern, flags))


def test_a_damaged_store_is_ignored_and_rewritten(fresh_store: Path) -> None:
    regexcode.compile(*PATTERNS[0])
    regexcode.save()
    (path,) = fresh_store.glob("regex-*.marshal")
    path.write_bytes(b"\x00not marshal at all")
    regexcode._stored = None
    regexcode._live.clear()
    _same(regexcode.compile(*PATTERNS[0]), re.compile(*PATTERNS[0]))
    regexcode.save()
    regexcode._stored = None
    regexcode._live.clear()
    assert (PATTERNS[0][0], PATTERNS[0][1]) in regexcode._store()


def test_a_program_the_engine_rejects_falls_back(fresh_store: Path) -> None:
    pattern, flags = PATTERNS[0]
    regexcode._stored = {(pattern, flags): (flags, [999999, 1, 2], 0, {}, (None,))}
    _same(regexcode.compile(pattern, flags), re.compile(pattern, flags))


def test_a_read_only_cache_is_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o500)
    monkeypatch.setenv("PSGDIAG_CACHE_DIR", str(locked / "cache"))
    monkeypatch.setattr(regexcode, "_stored", None)
    monkeypatch.setattr(regexcode, "_added", {})
    monkeypatch.setattr(regexcode, "_live", {})
    try:
        _same(regexcode.compile(*PATTERNS[1]), re.compile(*PATTERNS[1]))
        regexcode.save()  # no exception, nothing written
        assert not (locked / "cache").exists() or os.geteuid() == 0
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize(
    ("pattern", "want"),
    [
        (rb"x{0,100}y", rb"x{0,}y"),
        (rb"(?:[A-Z]\w*\s?){1,50}", rb"(?:[A-Z]\w*\s?){1,}"),
        (rb"x{2,5}", None),  # a narrow repeat is cheap: kept
        (rb"x{3}", None),
        (rb"\{0,100}", None),  # an escaped brace is a literal
        (rb"[{0,100}]", None),  # braces inside a class are members
        (rb"[]{0,100}]x", None),  # a leading ] is a member, the class runs on
        (rb"[[:alpha:]{0,100}]", None),
        (rb"[\]]{0,100}", rb"[\]]{0,}"),
        (rb"\Qx{0,100}\E", None),
    ],
)
def test_widened(pattern: bytes, want: bytes | None) -> None:
    assert widened(pattern) == want


_ATOMS = st.sampled_from(["a", "b", "[ab]", "[^a]", r"\s", r"\{", "(?:ab)", "."])
_REPEATS = st.sampled_from(["", "*", "?", "{0,3}", "{0,12}", "{1,20}", "{2}"])
_PATTERN = st.lists(st.tuples(_ATOMS, _REPEATS), min_size=1, max_size=5).map(
    lambda parts: "".join(a + r for a, r in parts)
)


@settings(max_examples=300, deadline=None)
@given(_PATTERN, st.text(alphabet="ab {} \n", max_size=40))
def test_a_widened_pattern_matches_whatever_the_pattern_matches(pattern: str, text: str) -> None:
    raw, data = pattern.encode(), text.encode()
    exact = compile_regex(raw).search(data) is not None
    wide = widened(raw)
    if wide is not None and exact:
        assert compile_regex(wide).search(data) is not None
    found = cached_regex(pattern).search(data)
    assert (found is not None) == exact
    if found is not None:
        assert found.span() == compile_regex(raw).search(data).span()


def test_the_console_script_exits_at_once_with_everything_written(tmp_path: Path) -> None:
    """The fast exit keeps the output, the exit status and the exit handlers' work."""
    log = CASES / "corrupt-package-download"
    paste = sorted(log.glob("*.log"))[0]
    env = dict(os.environ, PSGDIAG_CACHE_DIR=str(tmp_path / "cache"), NO_COLOR="1")
    run = subprocess.run(
        [sys.executable, "-m", "psgdiag", "explain", "-f", "json", str(paste)],
        capture_output=True,
        env=env,
        timeout=120,
    )
    report = json.loads(run.stdout)
    assert report["diagnoses"][0]["cause"] == "corrupt-package-download"
    assert list((tmp_path / "cache").glob("regex-*.marshal")), "exit handlers did not run"
    plain = subprocess.run(
        [sys.executable, "-m", "psgdiag", "explain", str(paste)],
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert plain.returncode == 3  # a diagnosis that says: retry later
    assert b"corrupt-package-download" in plain.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "psgdiag", "explain", str(tmp_path / "nope.log")],
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert missing.returncode not in (0, 3)
    assert b"Traceback" not in missing.stderr and missing.stderr.strip()
