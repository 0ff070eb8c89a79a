"""`psgdiag probe` against galleries that misbehave on purpose (tests/hostile_server.py).

Each attack must end within its --timeout + 3 s with a documented exit code (never 70) and a
message that names what happened. Memory is measured by benchmarks/hostile.py, not here.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from psgdiag.cli import app
from psgdiag.probe.feed import MAX_PAGES, version_key
from psgdiag.probe.zipcheck import MAX_ENTRIES, element
from tests import hostile_server as hs
from tests.test_probe import SCHEMA, _clean_env

runner = CliRunner()
GRACE = 3.0  # the bound: --timeout + 3 s


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)
        monkeypatch.delenv(var.lower(), raising=False)


def probe(feed: hs.Feed, *, timeout: float = 5, scheme: str = "http") -> tuple[int, Any, float]:
    """Probe the hostile gallery in-process: exit code, JSON, seconds taken (bounded)."""
    with hs.gallery(feed) as g:
        repo = g.base.replace("http://", f"{scheme}://", 1)
        started = time.monotonic()
        args = ["probe", hs.MODULE, "--repository", repo, "-f", "json", "--timeout", str(timeout)]
        res = runner.invoke(app, args)
        elapsed = time.monotonic() - started
    assert res.exit_code != 70, res.stderr
    assert elapsed < timeout + GRACE, f"{elapsed:.1f} s"
    doc = json.loads(res.stdout)
    jsonschema.validate(doc, SCHEMA)
    return res.exit_code, doc, elapsed


def by_name(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in doc["steps"]}


def nuspec(inside_id: str) -> bytes:
    return hs.package(f"<package><metadata><id>{inside_id}<version>1.0.0</version></metadata>")


def test_a_nuspec_built_to_backtrack_is_read_in_linear_time() -> None:
    code, doc, elapsed = probe(hs.Feed(data=nuspec(" " * 200_000)), timeout=3)
    assert (code, doc["verdict"]) == (0, "ok")
    assert elapsed < 3 + GRACE
    zipped = by_name(doc)["zip"]
    assert zipped["data"]["id"] == "?"  # no </id>: no id, and no minutes spent finding that out


def test_the_nuspec_scanner_reads_what_the_regex_did() -> None:
    assert element("<id>  Az.Accounts </id><version>2.1</version>", "id") == "Az.Accounts"
    assert element("<id>a<b/></id><id>Second</id>", "id") == "Second"
    assert element("<id>" + " " * 50_000, "id") is None
    assert element("<version>1.0", "id") is None


@pytest.mark.parametrize(
    ("feed", "step", "words"),
    [
        (hs.Feed(algorithm="SHAKE_128"), "hash", ["SHAKE_128", "something unusable"]),
        (hs.Feed(hash="not base64 at all"), "hash", ["not a base64", "unusable"]),
        (hs.Feed(version="1.\u00b2"), "feed", ["no client can use", "1.\u00b2"]),
        (hs.Feed(version="1." + "9" * 5000), "feed", ["no client can use"]),
        (hs.Feed(version="1.0.0.0.0"), "feed", ["no client can use", "1.0.0.0.0"]),
    ],
    ids=["shake128", "hash-not-base64", "superscript-version", "5000-digit-version", "5-parts"],
)
def test_values_no_client_can_use_are_service_findings(
    feed: hs.Feed, step: str, words: list[str]
) -> None:
    code, doc, _ = probe(feed)
    assert (code, doc["verdict"], doc["side"], doc["failed_step"]) == (
        3,
        "gallery-service-error",
        "service",
        step,
    )
    detail = by_name(doc)[step]["detail"]
    assert all(w in detail for w in words), detail
    assert "\x1b" not in json.dumps(doc, ensure_ascii=False)


def test_an_encrypted_entry_is_a_damaged_package() -> None:
    code, doc, _ = probe(hs.Feed(data=hs.encrypted(hs.package())))
    assert (code, doc["verdict"], doc["failed_step"]) == (3, "corrupt-package-download", "zip")
    assert "flagged as encrypted" in by_name(doc)["zip"]["detail"]


def test_an_empty_package_is_never_ok() -> None:
    feed = hs.Feed(data=b"", size=False, hash=hs.digest(hs.package()))
    code, doc, _ = probe(feed)
    assert (code, doc["verdict"], doc["failed_step"]) == (3, "corrupt-package-download", "download")
    steps = by_name(doc)
    assert "empty body" in steps["download"]["detail"]
    assert [steps[n]["status"] for n in ("zip", "hash")] == ["skip", "skip"]
    assert "nothing arrived" in steps["zip"]["detail"]


def test_ok_without_a_hash_says_the_hash_was_not_checked() -> None:
    code, doc, _ = probe(hs.Feed(hash=""))
    assert (code, doc["verdict"]) == (0, "ok")
    assert by_name(doc)["hash"]["status"] == "skip"
    assert "its hash was not checked" in doc["summary"]


def test_deep_pagination_stops_at_the_page_cap() -> None:
    code, doc, _ = probe(hs.Feed(pages=MAX_PAGES + 20))
    assert (code, doc["verdict"], doc["failed_step"]) == (3, "gallery-service-error", "feed")
    assert f"more than {MAX_PAGES} pages" in by_name(doc)["feed"]["detail"]


@pytest.mark.parametrize(
    ("filler", "words"),
    [
        (hs.filler_text(17 * 1024 * 1024), "page larger than 16 MB"),
        (hs.filler_elements(15 * 1024 * 1024), "more than 100000 XML elements"),
    ],
    ids=["17-MB", "4-million-elements"],
)
def test_a_huge_page_is_named_as_such(filler: bytes, words: str) -> None:
    code, doc, _ = probe(hs.Feed(filler=filler))
    assert (code, doc["verdict"], doc["failed_step"]) == (3, "gallery-service-error", "feed")
    assert words in by_name(doc)["feed"]["detail"]


def test_a_next_link_loop_is_a_service_error() -> None:
    feed = hs.Feed(pages=2)
    with hs.gallery(feed) as g:
        g.filler = f'<link rel="next" href="{g.base}/FindPackagesById()"/>'.encode()
        res = runner.invoke(app, ["probe", hs.MODULE, "--repository", g.base, "-f", "json"])
    doc = json.loads(res.stdout)
    assert (res.exit_code, doc["verdict"]) == (3, "gallery-service-error")
    assert "loop back" in by_name(doc)["feed"]["detail"]


def test_one_budget_covers_every_page() -> None:
    code, doc, _ = probe(hs.Feed(pages=60, delay=0.1), timeout=2)
    assert (code, doc["verdict"]) == (1, "network-unreachable")
    text = json.dumps(doc)
    assert "--timeout of 2 s ran out" in text or "what was left of the --timeout" in text


@pytest.mark.parametrize(
    ("count", "words"),
    [(MAX_ENTRIES + 10, f"more than {MAX_ENTRIES} entries"), (1_000_000, "central directory is")],
    ids=["past-the-entry-cap", "a-million-entries"],
)
def test_a_zip_with_too_many_entries_is_refused_cheaply(count: int, words: str) -> None:
    code, doc, _ = probe(hs.Feed(data=hs.many_entries(count)), timeout=10)
    assert (code, doc["verdict"], doc["failed_step"]) == (3, "gallery-service-error", "zip")
    assert words in by_name(doc)["zip"]["detail"]


def test_a_plain_http_server_on_an_https_url_is_named() -> None:
    code, doc, _ = probe(hs.Feed(), scheme="https")
    assert (code, doc["verdict"], doc["failed_step"]) == (1, "invalid-repository-uri", "tls")
    steps = by_name(doc)
    assert "does not speak TLS" in steps["tls"]["detail"]
    assert "TLS 1.2" not in steps["tls"]["detail"]
    assert steps["tls-legacy"]["status"] == "skip" and doc["findings"] == []


@pytest.mark.parametrize("ending", ["close", "reset"])
def test_a_cut_download_is_the_same_truncation_however_it_ends(ending: str) -> None:
    code, doc, _ = probe(hs.Feed(data=os.urandom(256 * 1024), ending=ending))
    assert (code, doc["verdict"], doc["side"]) == (3, "corrupt-package-download", "service")
    assert f"connection was {'reset' if ending == 'reset' else 'closed'}" in json.dumps(doc)


def test_an_endless_body_ends_with_the_budget() -> None:
    code, doc, _ = probe(hs.Feed(size=False, ending="endless"), timeout=2)
    assert (code, doc["verdict"]) == (1, "network-unreachable")
    assert "--timeout of 2 s ran out" in json.dumps(doc)


def test_control_characters_from_the_server_never_reach_the_terminal() -> None:
    feed = hs.Feed(data=nuspec("\x1b]0;pwned\x07Tiny</id>"))
    with hs.gallery(feed) as g:
        res = runner.invoke(app, ["probe", hs.MODULE, "--repository", g.base, "--no-color"])
    assert res.exit_code == 0 and "\x1b" not in res.stdout and "\x07" not in res.stdout
    assert "\ufffd]0;pwned\ufffdTiny" in res.stdout


def test_versions_sort_without_ever_raising() -> None:
    assert version_key("1.\u00b2") == ((1, 0, 0, 0), 1, "")
    assert version_key("9" * 5000)[0][0] == 0
    assert version_key("2.0.0-beta") < version_key("2.0.0")


@pytest.fixture
def stalled() -> Iterator[hs.Feed]:
    with hs.gallery(hs.Feed(data=os.urandom(1 << 20), ending="stall")) as g:
        yield g


def test_ctrl_c_ends_a_probe_at_once_and_leaves_no_temp_files(
    stalled: hs.Feed, tmp_path: Path
) -> None:
    env = {**_clean_env(), "TMPDIR": str(tmp_path)}
    cmd = [sys.executable, "-m", "psgdiag", "probe", hs.MODULE, "--repository", stalled.base]
    proc = subprocess.Popen(
        [*cmd, "--timeout", "30"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        arrived = hs.wait_until(
            lambda: any(p.is_file() and p.stat().st_size for p in tmp_path.rglob("*")), 30
        )
        assert arrived, "the download never started"
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        _, err = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert took < 1.0, f"{took:.2f} s after Ctrl-C"
    assert list(tmp_path.iterdir()) == []
    assert b"interrupted" in err and b"Traceback" not in err
