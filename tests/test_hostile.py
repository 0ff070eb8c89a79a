"""Hostile input: whatever arrives, a clear one-line error and a documented exit code, never a
traceback, never a hang; a report that is produced keeps the invariants of tests/invariants.py.
Subprocesses carry a wall-clock timeout as a hang guard; the pathological input also has a CPU-time
bound, which is what a backtracking blow-up would multiply.
"""

from __future__ import annotations

import json
import os
import random
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from psgdiag import api
from psgdiag.cli import app
from psgdiag.errors import ExitCode
from psgdiag.model import KnowledgeBase
from tests.invariants import assert_report_invariants

runner = CliRunner()
# Seconds of wall-clock time before a subprocess counts as hung (these runs take 1-2 s).
HANG_GUARD = 120
# The pathological input costs 20-21 s of CPU (user + sys; measured 2026-12-07 on the 2-core dev
# machine, three runs: 20.7, 21.5, 20.9 s). The child may use 3x that: a slower CI CPU fits, a
# backtracking engine does not. CPU time, not wall time, so xdist workers and other jobs on a
# loaded machine cannot make the test flaky; the kernel stops the child at the limit. Its wall
# clock guard is 3x the limit: only a hang that uses no CPU can reach it.
PATHOLOGICAL_CPU_SECONDS = 60
COMPLETED = {int(ExitCode.OK), int(ExitCode.FIX), int(ExitCode.RETRY)}

BOMB_SIG = """id = "regex-bomb"
title = "A signature written to hang a backtracking engine"
status = "experimental"
category = "network"
fault = "client"
transient = false
references = []

[[evidence]]
name = "bomb"
strength = "strong"
regex = '''(a+)+$'''

[[evidence]]
name = "nested"
strength = "weak"
regex = '''^(([a-z])+.)+[A-Z]([a-z])+$'''

[[evidence]]
name = "fact_bomb"
strength = "weak"
fact = "module ~ (x+x+)+y"

[match]
requires_any = ["bomb"]

[explain]
summary = "s"

[[remedy]]
title = "r"
command = "Get-Thing"
scope = "user"
risk = "safe"
"""


def cli(args: list[str], stdin: bytes | None = None) -> tuple[int, str, str]:
    """Run psgdiag in-process; return (exit code, stdout, stderr)."""
    res = runner.invoke(app, args, input=stdin)
    return res.exit_code, res.stdout, res.stderr


def run(args: list[str], *, stdin: bytes | None = None, shell: str = "") -> tuple[int, str, str]:
    """Run psgdiag in a real process (stdin handling, hang guard)."""
    cmd = [sys.executable, "-m", "psgdiag", *args]
    if shell:  # e.g. "PSGDIAG explain <&-" (a closed stdin needs a real shell)
        cmd = ["sh", "-c", shell.replace("PSGDIAG", f"{sys.executable} -m psgdiag")]
    proc = subprocess.run(
        cmd, input=stdin, capture_output=True, timeout=HANG_GUARD, env=os.environ.copy()
    )
    return proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode("utf-8")


def _limit_cpu(seconds: int) -> None:
    """In the child: SIGXCPU after `seconds` of CPU time, and no core file when it comes."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 5))


def run_cpu_bounded(args: list[str], stdin: bytes, seconds: int) -> tuple[int, str, str, float]:
    """Run psgdiag with a CPU-time limit; return (exit code, stdout, stderr, CPU seconds used)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(
        [sys.executable, "-m", "psgdiag", *args],
        input=stdin,
        capture_output=True,
        timeout=3 * seconds,
        env=os.environ.copy(),
        preexec_fn=lambda: _limit_cpu(seconds),
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    out, err = proc.stdout.decode(errors="replace"), proc.stderr.decode("utf-8", "replace")
    return proc.returncode, out, err, cpu


def assert_clean_error(code: int, err: str, expected: ExitCode, *words: str) -> None:
    """One sentence naming the problem, one hint, the documented code, no traceback."""
    assert code == int(expected), err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines[0].startswith("psgdiag: error: "), err
    assert all(w.lower() in lines[0].lower() for w in words), err
    assert len(lines) == 2 and lines[1].startswith("  hint: "), err


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_arbitrary_bytes_are_refused_as_not_text(seed: int) -> None:
    rng = random.Random(seed)
    data = bytes(rng.getrandbits(8) for _ in range(100_000))
    code, out, err = cli(["explain", "-f", "json", "-"], data)
    assert_clean_error(code, err, ExitCode.INPUT, "standard input", "not a text log")
    assert out == ""  # json mode: nothing but JSON on stdout, and no report was made


@pytest.mark.parametrize(
    ("data", "diagnosed"),
    [
        (b"\x00" * 50_000, False),
        (b"Install-Module : \x00Package\x00 failed\x00\n" * 500, True),  # stray NULs: still text
        (b"\xff\xfe" + b"\x00\xd8" * 1000, False),  # UTF-16 of lone surrogates only
        (b"\xef\xbb\xbf" + b"\xc3" * 10_000, False),  # a BOM, then no decodable character
        (b"\r" * 100_000, True),  # blank: nothing to diagnose, nothing wrong
        (b"\x1b[" * 30_000, True),  # escape sequences are text (ANSI colours)
    ],
    ids=["nuls", "nuls-in-record", "utf16-lone-surrogates", "bom-broken-utf8", "cr-only", "esc"],
)
def test_binary_junk_is_refused_and_damaged_text_completes(data: bytes, diagnosed: bool) -> None:
    code, out, err = cli(["explain", "-f", "json", "-"], data)
    if diagnosed:
        assert code in COMPLETED and "Traceback" not in err and out.lstrip().startswith("{")
        assert_report_invariants(json.loads(out), data)
    else:
        assert_clean_error(code, err, ExitCode.INPUT, "not a text log")


def test_empty_input_says_nothing_is_wrong() -> None:
    code, out, err = cli(["explain", "-f", "json", "-"], b"")
    assert code == int(ExitCode.OK) and '"diagnoses": []' in out and "Traceback" not in err
    assert_report_invariants(json.loads(out), b"")


def test_a_line_without_newline_goes_through_the_scanner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api, "FULL_READ_LIMIT", 256 * 1024)  # a few MB prove the mechanism
    path = tmp_path / "one-line.log"
    path.write_bytes(b"x" * 3_000_000 + b" Exception " + b"y" * 1_000_000)
    code, out, err = cli(["explain", "-f", "json", str(path)])
    assert code in COMPLETED and "Traceback" not in err
    assert_report_invariants(json.loads(out), path.read_bytes())


def pathological(kb: KnowledgeBase) -> bytes:
    """Text built to make backtracking engines explode on every signature regex."""
    from psgdiag.kb.regexlit import regex_tokens

    parts = ["(" * 5000 + ")" * 5000, "a" * 50_000 + "!", "'" * 20_000, " " * 20_000 + "x"]
    for sig in kb.signatures:
        for ev in sig.evidence:
            if ev.kind == "regex":
                for phrase in sorted(regex_tokens(ev.pattern) or ()):
                    parts.append((phrase + " ") * 200 + "'" * 500 + phrase[:-1] * 200)
    return "\n".join(parts).encode()


def test_pathological_text_against_every_signature_regex(kb: KnowledgeBase) -> None:
    assert any(e.kind == "regex" for s in kb.signatures for e in s.evidence)
    data = pathological(kb)
    limit = PATHOLOGICAL_CPU_SECONDS
    code, out, err, cpu = run_cpu_bounded(["explain", "-f", "json", "-"], data, limit)
    assert code != -signal.SIGXCPU, f"stopped after {limit} s of CPU time: not linear any more"
    assert code in COMPLETED and "Traceback" not in err, err
    assert cpu <= limit, f"{cpu:.1f} s of CPU time, more than {limit} s"
    assert_report_invariants(json.loads(out), data)


def test_closed_stdin_is_a_clear_input_error() -> None:
    code, _out, err = run([], shell="PSGDIAG explain <&-")
    assert_clean_error(code, err, ExitCode.INPUT, "standard input")


def test_a_directory_is_not_a_log(tmp_path: Path) -> None:
    code, _out, err = cli(["explain", str(tmp_path)])
    assert_clean_error(code, err, ExitCode.INPUT, "directory")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    code, _out, err = cli(["explain", str(tmp_path / "nope.log")])
    assert_clean_error(code, err, ExitCode.INPUT, "nope.log")


def sig_dir(tmp_path: Path, name: str, content: bytes) -> Path:
    folder = tmp_path / "sigs"
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(content)
    return folder


@pytest.mark.parametrize(
    ("name", "content", "word"),
    [
        ("bad-toml.toml", b'id = "bad-toml"\ntitle = [unclosed\n', "invalid TOML"),
        ("latin1.toml", 'id = "latin1"\ntitle = "Zubeh\xf6r"\n'.encode("latin-1"), "UTF-8"),
        ("huge.toml", b"# " + b"x" * (300 * 1024) + b"\n", "KiB"),
        ("regex-bomb.toml", BOMB_SIG.replace("(a+)+$", r"(a)\1").encode(), "RE2"),
        ("wrong-id.toml", BOMB_SIG.encode(), "file name"),
    ],
    ids=["bad-toml", "not-utf8", "huge", "backreference", "wrong-id"],
)
def test_broken_signature_folders_are_kb_errors(
    tmp_path: Path, name: str, content: bytes, word: str
) -> None:
    folder = sig_dir(tmp_path, name, content)
    code, _out, err = cli(["explain", "--signatures", str(folder), "-"], b"hello\n")
    assert code == int(ExitCode.KB_INVALID), err
    assert "Traceback" not in err and word.lower() in err.lower(), err
    assert err.startswith("psgdiag: error: invalid knowledge base: ")


def test_a_missing_signature_folder_is_a_kb_error(tmp_path: Path) -> None:
    code, _out, err = cli(["explain", "--signatures", str(tmp_path / "none"), "-"], b"hi\n")
    assert_clean_error(code, err, ExitCode.KB_INVALID, "not a folder")


def test_a_regex_bomb_signature_runs_in_linear_time(tmp_path: Path) -> None:
    folder = sig_dir(tmp_path, "regex-bomb.toml", BOMB_SIG.encode())
    text = b"Install-Module -Name " + b"x" * 40 + b"\n" + b"a" * 200_000 + b"!\n"
    text += b"abcdefghijklmnopqrstuvwxyz" * 2000 + b"\n"
    code, out, err = run(["explain", "-f", "json", "--signatures", str(folder), "-"], stdin=text)
    assert code in COMPLETED and "Traceback" not in err
    assert_report_invariants(json.loads(out), text)
