"""`incidents sync` against a real HTTP server on 127.0.0.1: new, 304, 500, timeout, garbage."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from psgdiag.cli import app
from psgdiag.errors import InputError, NetworkError
from psgdiag.incidents import history as inc_mod
from psgdiag.incidents import sync as incident_sync

runner = CliRunner()

PAGE_V1 = """PowerShell Gallery Status
=========================

### March 2nd 2026, Some downloads return damaged packages
A few packages fail with "End of Central Directory record could not be found".
__Status: Ongoing__

### June 14nd, 2022  The PowerShell Gallery is down.
__Status: Resolved__
"""
PAGE_V2 = """PowerShell Gallery Status
=========================

### March 9th 2026, The gallery had an outage.
__Status: Resolved__

__Root Cause__: Request failures began roughly 09:00 UTC and resolved around 10:30 UTC.

### June 14nd, 2022  The PowerShell Gallery is down.
__Status: Resolved__
"""
NEW_1 = "INC-2026-03-02-downloads-return-damaged"
NEW_2 = "INC-2026-03-09-had-outage"


@dataclass
class State:
    """What the test server does next, and what it was asked."""

    mode: str = "ok"
    page: str = PAGE_V1
    etag: str = '"v1"'
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


def make_handler(state: State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            state.requests.append((self.path, dict(self.headers.items())))
            if state.mode == "slow":
                state.release.wait(10)
            if state.mode == "error":
                self._send(500, b"boom", "text/plain")
            elif state.mode == "garbage":
                self._send(200, b"<html><body>Service Unavailable</body></html>", "text/html")
            elif self.headers.get("If-None-Match") == state.etag:
                self.send_response(304)
                self.send_header("ETag", state.etag)
                self.end_headers()
            else:
                self._send(200, state.page.encode(), "text/plain; charset=utf-8")

        def _send(self, code: int, body: bytes, ctype: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", state.etag)
            self.send_header("Last-Modified", "Mon, 02 Mar 2026 10:00:00 GMT")
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

    return Handler


@pytest.fixture
def server() -> Iterator[tuple[str, State]]:
    state = State()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/psgallery_status.md", state
    finally:
        state.release.set()
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PSGDIAG_DATA_DIR", str(tmp_path))
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return tmp_path / "incidents-synced.toml"


def test_first_sync_stores_only_new_incidents(server: tuple[str, State], cache: Path) -> None:
    url, _state = server
    result = incident_sync.sync(url)
    assert result.status == "updated" and result.added == (NEW_1,)
    cached, meta = incident_sync.read_cache(cache)
    assert [i.id for i in cached] == [NEW_1]  # the bundled 2022 outage is not duplicated
    assert meta["etag"] == '"v1"' and meta["url"] == url
    everything = {i.id for i in inc_mod.load_all()}
    assert NEW_1 in everything and "INC-2022-06-14-down" in everything
    assert [p.name for p in cache.parent.iterdir()] == [cache.name]  # no temp files left


def test_a_later_page_adds_entries_and_never_drops_old_ones(
    server: tuple[str, State], cache: Path
) -> None:
    url, state = server
    incident_sync.sync(url)
    state.page, state.etag = PAGE_V2, '"v2"'
    result = incident_sync.sync(url)
    assert result.added == (NEW_2,)
    ids = [i.id for i in incident_sync.read_cache(cache)[0]]
    assert ids == [NEW_1, NEW_2]  # NEW_1 vanished from the page but stays known
    outage = next(i for i in inc_mod.load_all() if i.id == NEW_2)
    assert outage.causes == ("gallery-service-error",)
    assert (outage.start.hour, outage.start.minute) == (9, 0)


def test_unchanged_page_is_a_conditional_request_answered_304(
    server: tuple[str, State], cache: Path
) -> None:
    url, state = server
    incident_sync.sync(url)
    before = cache.read_bytes()
    result = incident_sync.sync(url)
    assert result.status == "unchanged" and result.total == 1
    headers = state.requests[-1][1]
    assert headers.get("If-None-Match") == '"v1"'
    assert headers.get("If-Modified-Since") == "Mon, 02 Mar 2026 10:00:00 GMT"
    assert cache.read_bytes() == before


@pytest.mark.parametrize(
    ("mode", "error", "words"),
    [
        ("error", NetworkError, "HTTP 500"),
        ("slow", NetworkError, "timed out"),
        ("garbage", InputError, "does not look like a status page"),
    ],
)
def test_failures_keep_the_last_good_cache_byte_for_byte(
    server: tuple[str, State], cache: Path, mode: str, error: type[Exception], words: str
) -> None:
    url, state = server
    incident_sync.sync(url)
    before = cache.read_bytes()
    state.mode, state.etag = mode, '"v9"'
    with pytest.raises(error) as err:
        incident_sync.sync(url, timeout=0.5)
    assert words in str(err.value)
    assert cache.read_bytes() == before
    assert [p.name for p in cache.parent.iterdir()] == [cache.name]


def test_offline_sync_keeps_the_cache(cache: Path) -> None:
    incident_sync.write_atomic(cache, "[sync]\n")
    with pytest.raises(NetworkError):
        incident_sync.sync("http://127.0.0.1:9/psgallery_status.md", timeout=2)
    assert cache.read_text() == "[sync]\n"


def test_a_damaged_cache_is_replaced_by_a_good_one(server: tuple[str, State], cache: Path) -> None:
    url, _state = server
    cache.write_bytes(b"\xff\xfe not toml [[[")
    assert incident_sync.sync(url).added == (NEW_1,)
    assert [i.id for i in incident_sync.read_cache(cache)[0]] == [NEW_1]


def test_the_proxy_comes_from_the_environment(
    server: tuple[str, State], cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, state = server
    proxy = url.rsplit("/", 1)[0]
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("NO_PROXY", "")
    result = incident_sync.sync("http://status.example.invalid/psgallery_status.md")
    assert result.added == (NEW_1,)
    assert state.requests[-1][0] == "http://status.example.invalid/psgallery_status.md"


def test_github_blob_addresses_are_fetched_raw() -> None:
    assert incident_sync.raw_url(
        "https://github.com/PowerShell/PowerShellGallery/blob/master/psgallery_status.md"
    ) == (
        "https://raw.githubusercontent.com/PowerShell/PowerShellGallery/master/psgallery_status.md"
    )


def test_cache_round_trips_every_field(server: tuple[str, State], cache: Path) -> None:
    url, _state = server
    incident_sync.sync(url)
    again = incident_sync.dump_cache(*incident_sync.read_cache(cache))
    assert incident_sync.read_cache(cache)[0] == list(
        inc_mod.parse_incidents_toml(again, "round-trip")
    )


# ------------------------------------------------------------------ CLI


def test_cli_sync_reports_new_incidents_then_unchanged(
    server: tuple[str, State], cache: Path
) -> None:
    url, _state = server
    res = runner.invoke(app, ["incidents", "sync", url])
    assert res.exit_code == 0 and NEW_1 in res.stdout and "1 new incidents" in res.stdout
    res = runner.invoke(app, ["incidents", "sync", url])
    assert res.exit_code == 0 and "unchanged" in res.stdout
    res = runner.invoke(app, ["incidents", "show", NEW_1])
    assert res.exit_code == 0 and "origin:    synced" in res.stdout


def test_cli_sync_failure_is_one_line_with_a_hint_and_exit_6(
    server: tuple[str, State], cache: Path
) -> None:
    url, state = server
    state.mode = "error"
    res = runner.invoke(app, ["incidents", "sync", url])
    assert res.exit_code == 6
    assert res.stderr.startswith("psgdiag: error:") and "hint:" in res.stderr
    assert "Traceback" not in res.stderr and not cache.exists()


def test_cli_import_from_a_url(server: tuple[str, State], cache: Path) -> None:
    url, _state = server
    res = runner.invoke(app, ["incidents", "import", url, "-f", "json"])
    assert res.exit_code == 0
    assert '"INC-2022-06-14-down"' in res.stdout and not cache.exists()  # import stores nothing


def test_an_unwritable_cache_location_is_a_clean_error(
    server: tuple[str, State], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _state = server
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("PSGDIAG_DATA_DIR", str(blocker / "sub"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    res = runner.invoke(app, ["incidents", "sync", url])
    assert res.exit_code == 4
    assert "cannot write the incident cache" in res.stderr and "PSGDIAG_DATA_DIR" in res.stderr


def test_list_marks_synced_incidents_and_prints_brackets_literally(
    server: tuple[str, State], cache: Path
) -> None:
    url, state = server
    state.page = PAGE_V1.replace("damaged packages", "damaged packages [bold]")
    incident_sync.sync(url)
    res = runner.invoke(app, ["incidents", "list", "--at", "2026-03-02"])
    assert res.exit_code == 0
    assert "(synced)" in res.stdout and "[bold]" in res.stdout
