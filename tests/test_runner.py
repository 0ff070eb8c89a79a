"""`psgdiag run`: real child processes, real pipes, real signals; retries follow the diagnosis."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from psgdiag import api
from psgdiag.model import Incident, KnowledgeBase, Report
from psgdiag.record import replace
from psgdiag.runner.capture import Capture
from psgdiag.runner.run import RetryPolicy, Streams, decide, retry_after_seconds, run_with_retries

CHILD_DIR = Path(__file__).parent / "child_scripts"
CHILD = CHILD_DIR / "fake_install.py"
SIGS = CHILD_DIR / "signatures"
NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)

sys.path.insert(0, str(CHILD_DIR))
import fake_install  # type: ignore[import-not-found]  # noqa: E402  (on sys.path above)


def _run(
    tmp_path: Path, *args: str, scenario: list[str], timeout: float = 120
) -> tuple[subprocess.CompletedProcess[bytes], int]:
    """Run `psgdiag run ARGS -- python fake_install.py SCENARIO`; return it and the run count."""
    counter = tmp_path / "runs.txt"
    env = {**os.environ, "FAKE_INSTALL_COUNTER": str(counter), "NO_COLOR": "1"}
    cmd = [sys.executable, "-m", "psgdiag", "run", "--signatures", str(SIGS), *args, "--"]
    cmd += [sys.executable, str(CHILD), *scenario]
    proc = subprocess.run(cmd, capture_output=True, env=env, timeout=timeout, check=False)
    runs = len(counter.read_text().splitlines()) if counter.exists() else 0
    return proc, runs


def _kb() -> KnowledgeBase:
    """Only the test's own two signatures, so the tests do not follow knowledge-base tuning."""
    full = api.load_kb([SIGS])
    mine = {p.stem for p in SIGS.glob("*.toml")}
    return KnowledgeBase(tuple(s for s in full.signatures if s.id in mine), full.version)


def _report(text: str) -> Report:
    return api.diagnose_text(text, kb=_kb(), incidents=())


# ------------------------------------------------------------------ end to end, real processes


def test_gallery_503_is_retried_n_times_then_exits_with_the_childs_code(tmp_path: Path) -> None:
    proc, runs = _run(
        tmp_path, "--retry", "2", "--retry-delay", "0", "--max-delay", "0",
        "-f", "json", scenario=["gallery-503", "120"],
    )  # fmt: skip
    assert runs == 3
    assert proc.returncode == 1
    err = proc.stderr.decode()
    assert err.count("retrying in 0s") == 2
    assert "Retry-After 120s, capped at 0s" in err
    assert "giving up after 3 attempts" in err
    # Three copies of the child's output, then the JSON report of the last attempt.
    out = proc.stdout.decode()
    child_out = fake_install.GALLERY_503.format(retry_after="120")
    assert out.startswith(child_out * 3)
    report = json.loads(out[len(child_out) * 3 :])
    assert report["diagnoses"][0]["cause"] == "gallery-service-error"


def test_admin_rights_failure_runs_once(tmp_path: Path) -> None:
    proc, runs = _run(
        tmp_path, "--retry", "3", "--retry-delay", "0", "-f", "github", scenario=["admin"]
    )
    assert runs == 1
    assert proc.returncode == 1
    assert "not retrying: admin-rights-required needs a fix (client side)" in proc.stderr.decode()
    assert "::error title=Installing for all users needs administrator rights" in (
        proc.stdout.decode()
    )


def test_a_transient_failure_that_recovers_exits_zero_with_a_warning_only(tmp_path: Path) -> None:
    proc, runs = _run(
        tmp_path, "--retry", "3", "--retry-delay", "0", "-f", "github", scenario=["flaky", "1"]
    )
    assert runs == 2
    assert proc.returncode == 0
    out = proc.stdout.decode()
    assert "::error" not in out
    assert out.splitlines()[-2] == "Installed."
    assert out.splitlines()[-1].startswith(
        "::warning title=Passed after a retry%3A The gallery answered with a server error"
    )
    assert "succeeded on attempt 2" in proc.stderr.decode()


@pytest.mark.parametrize(
    ("fmt", "last_line"),
    [
        ("azure", "##vso[task.complete result=SucceededWithIssues;]psgdiag: passed after a retry"),
        ("rich", "Installed."),
        ("json", "Installed."),
    ],
)
def test_recovery_is_reported_only_by_the_ci_formats(
    tmp_path: Path, fmt: str, last_line: str
) -> None:
    proc, _ = _run(
        tmp_path, "--retry", "1", "--retry-delay", "0", "-f", fmt, scenario=["flaky", "1"]
    )
    assert proc.returncode == 0
    assert proc.stdout.decode().splitlines()[-1] == last_line


def test_output_passes_through_byte_for_byte(tmp_path: Path) -> None:
    direct = subprocess.run(
        [sys.executable, str(CHILD), "raw-bytes", "5"], capture_output=True, check=False
    )
    proc, runs = _run(tmp_path, "-f", "rich", scenario=["raw-bytes", "5"])
    assert runs == 1
    assert proc.returncode == direct.returncode == 5
    # rich goes to stderr, so stdout is exactly the child's stdout.
    assert proc.stdout == direct.stdout
    assert bytes(range(256)) in proc.stdout
    assert proc.stderr.startswith(direct.stderr)


def test_a_missing_command_exits_127_with_one_clear_line(tmp_path: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "psgdiag", "run", "--", "psgdiag-no-such-command-xyz", "-x"],
        capture_output=True, env=env, check=False, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 127
    err = proc.stderr.decode()
    assert err.startswith("psgdiag: error: cannot start 'psgdiag-no-such-command-xyz'")
    assert "hint:" in err
    assert "Traceback" not in err


def test_an_unknown_format_is_a_usage_error_before_anything_runs(tmp_path: Path) -> None:
    proc, runs = _run(tmp_path, "-f", "xml", scenario=["admin"])
    assert proc.returncode == 2
    assert runs == 0
    assert "unknown format 'xml'" in proc.stderr.decode()


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
def test_sigterm_reaches_the_child_and_nothing_is_lost(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "psgdiag", "run", "--retry", "3", "--"]
    cmd += [sys.executable, str(CHILD), "wait-for-signal"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"ready\n"
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert out == b"child got signal 15\n"
    assert b"cleanup finished\n" in err
    assert b"interrupted" in err
    assert proc.returncode == 128 + signal.SIGTERM


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
def test_sigint_sent_to_the_wrapper_reaches_the_child_when_no_terminal_does(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "psgdiag", "run", "--"]
    cmd += [sys.executable, str(CHILD), "wait-for-signal"]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"ready\n"
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert out == b"child got signal 2\n"
    assert proc.returncode == 128 + signal.SIGINT


def test_huge_output_is_diagnosed_from_a_bounded_copy(tmp_path: Path) -> None:
    report_file = tmp_path / "report.json"
    proc, _ = _run(
        tmp_path, "-f", "json", "-o", str(report_file), scenario=["huge", "6"], timeout=300
    )
    assert proc.returncode == 1
    assert len(proc.stdout) > 6 * 1024 * 1024  # everything was streamed ...
    report = json.loads(report_file.read_text())
    assert report["diagnoses"][0]["cause"] == "gallery-service-error"  # ... the end was kept
    assert any("were not kept for diagnosis" in n for n in report["notes"])
    # No --retry given: the wrapper says a retry would help instead of retrying.
    assert "is on the service side: --retry N would run it again" in proc.stderr.decode()


# ------------------------------------------------------------------ the retry loop in-process


def _streams() -> tuple[Streams, list[str]]:
    notes: list[str] = []
    return Streams(io.BytesIO(), io.BytesIO(), notes.append), notes


def test_a_failing_diagnosis_never_changes_the_exit_code() -> None:
    def broken(data: bytes, now: dt.datetime):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    streams, notes = _streams()
    argv = [sys.executable, str(CHILD), "admin"]
    result = run_with_retries(argv, RetryPolicy(retries=2, delay=0), broken, streams)
    assert result.code == 1
    assert len(result.attempts) == 1
    assert notes == ["could not diagnose the output (RuntimeError: boom); not retrying"]


def test_the_diagnosis_gets_the_wall_clock_and_the_kept_output() -> None:
    seen: list[tuple[bytes, dt.datetime]] = []

    def diagnose(data: bytes, now: dt.datetime):  # type: ignore[no-untyped-def]
        seen.append((data, now))
        return _report(data.decode())

    streams, _ = _streams()
    argv = [sys.executable, str(CHILD), "gallery-503", "7"]
    policy = RetryPolicy(retries=1, delay=0, max_delay=0)
    result = run_with_retries(argv, policy, diagnose, streams, clock=lambda: NOW)
    assert [a.code for a in result.attempts] == [1, 1]
    assert result.attempts[0].decision is not None and result.attempts[0].decision.retry
    assert result.attempts[0].decision.retry_after == 7
    assert all(now == NOW for _, now in seen)
    assert b"(503) Server Unavailable" in seen[0][0]
    assert b"FullyQualifiedErrorId : NoMatchFoundForCriteria" in seen[0][0]


# ------------------------------------------------------------------ policy


def test_decide_retries_service_side_and_never_client_side() -> None:
    gallery = decide(_report(fake_install.GALLERY_503.format(retry_after="30")), NOW)
    assert gallery.retry and gallery.retry_after == 30
    admin = decide(_report(fake_install.ADMIN_ERR), NOW)
    assert not admin.retry and "needs a fix" in admin.reason
    nothing = decide(_report("Write-Host hello\nhello\n"), NOW)
    assert not nothing.retry and "no known cause" in nothing.reason


def test_decide_retries_inside_a_live_incident_but_not_a_permanent_change() -> None:
    admin = _report(fake_install.ADMIN_ERR)
    outage = Incident(
        id="INC-2026-03-01-test",
        title="Test outage",
        start=NOW - dt.timedelta(hours=1),
        end=None,
        kind="outage",
        impact="Y",
        causes=("admin-rights-required",),
    )

    def with_incident(inc: Incident) -> Report:
        top = replace(admin.diagnoses[0], incident=inc)
        return replace(admin, diagnoses=(top,))

    live = decide(with_incident(outage), NOW)
    assert live.retry and live.reason == "admin-rights-required during incident INC-2026-03-01-test"
    lasting = decide(with_incident(replace(outage, permanent=True)), NOW)
    assert not lasting.retry


def test_retry_after_as_an_http_date_counts_from_now() -> None:
    report = _report("Retry-After: Sun, 01 Mar 2026 12:01:30 GMT\n")
    assert retry_after_seconds(report, NOW) == 90
    assert retry_after_seconds(_report("retry after a while\n"), NOW) is None


def test_backoff_doubles_honours_retry_after_and_is_capped() -> None:
    policy = RetryPolicy(retries=5, delay=10, max_delay=60)
    assert [policy.backoff(n) for n in (1, 2, 3, 4)] == [10, 20, 40, 60]
    assert policy.backoff(1, retry_after=45) == 45
    assert policy.backoff(3, retry_after=5) == 40
    assert policy.backoff(1, retry_after=3600) == 60


# ------------------------------------------------------------------ bounded capture


def test_capture_keeps_head_and_tail_in_whole_lines() -> None:
    cap = Capture(head_limit=1000, tail_limit=2000)
    for i in range(1000):
        cap.feed("stdout", f"line {i:04d} {'x' * 20}\n".encode())
    data = cap.snapshot()
    assert cap.truncated
    assert len(data) < 1000 + 2000 + 200
    lines = data.decode().splitlines()
    assert lines[0] == f"line 0000 {'x' * 20}"
    assert lines[-1] == f"line 0999 {'x' * 20}"
    marker = next(ln for ln in lines if ln.startswith("[psgdiag:"))
    assert f"{cap.dropped_lines} lines" in marker
    kept = [ln for ln in lines if ln.startswith("line ")]
    assert all(len(ln) == 30 for ln in kept)
    assert len(kept) + cap.dropped_lines == 1000


def test_capture_never_mixes_two_streams_inside_a_line() -> None:
    cap = Capture()
    cap.feed("stdout", b"VERBOSE: Downloading ")
    cap.feed("stderr", b"Install-Module : Access ")
    cap.feed("stdout", b"package\n")
    cap.feed("stderr", b"is denied\n")
    cap.feed("stdout", b"no newline")
    cap.close("stdout")
    cap.close("stderr")
    assert cap.snapshot() == (
        b"VERBOSE: Downloading package\nInstall-Module : Access is denied\nno newline\n"
    )
    assert not cap.truncated
