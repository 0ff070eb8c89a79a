"""`psgdiag serve` before it listens: options, the loopback rule, the extra, start-up cost."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from psgdiag.cli import app
from psgdiag.cli.serve_cli import parse_size
from psgdiag.errors import UsageError
from psgdiag.serve.openapi import openapi_document
from psgdiag.serve.settings import ServeSettings, checked, is_loopback
from tests.conftest import DATA, ROOT

LONG_TOKEN = "a-token-long-enough-0123456789"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True),
     ("localhost", True), ("0.0.0.0", False), ("::", False), ("192.0.2.7", False)],
)  # fmt: skip
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_beyond_loopback_needs_a_token_or_no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PSGDIAG_SERVE_TOKEN", raising=False)
    with pytest.raises(UsageError, match="reachable from other machines"):
        checked(ServeSettings(host="0.0.0.0"), no_token=False)
    assert checked(ServeSettings(host="0.0.0.0"), no_token=True).token == ""
    assert checked(ServeSettings(host="0.0.0.0", token=LONG_TOKEN), no_token=False).token
    monkeypatch.setenv("PSGDIAG_SERVE_TOKEN", LONG_TOKEN)
    assert checked(ServeSettings(host="0.0.0.0"), no_token=False).token == LONG_TOKEN
    with pytest.raises(UsageError, match="--no-token"):
        checked(ServeSettings(), no_token=True)


@pytest.mark.parametrize(
    "settings",
    [ServeSettings(port=70000), ServeSettings(max_bytes=10), ServeSettings(time_limit=0),
     ServeSettings(jobs=-1), ServeSettings(workers=0), ServeSettings(token="short")],
)  # fmt: skip
def test_bad_settings_are_usage_errors(settings: ServeSettings) -> None:
    with pytest.raises(UsageError):
        checked(settings, no_token=False)


def test_settings_survive_the_environment_round_trip() -> None:
    settings = ServeSettings(port=9, token=LONG_TOKEN, sig_dirs=("a", "b"), jobs=0, workers=3)
    assert ServeSettings.from_env(settings.to_env()) == settings


def test_sizes() -> None:
    assert parse_size("20MB") == 20_000_000
    assert parse_size("512KiB") == 512 * 1024
    assert parse_size("1048576") == 1048576
    with pytest.raises(UsageError):
        parse_size("lots")


def test_cli_refuses_a_public_address_without_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PSGDIAG_SERVE_TOKEN", raising=False)
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "no token was given" in result.output and "--no-token" in result.output


def test_cli_names_the_missing_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else real(name)
    )
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 2
    assert 'pip install "psgdiag[serve]"' in result.output and "uvicorn" in result.output


def test_a_port_in_use_is_exit_6() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "psgdiag", "serve", "--port", str(port), "--jobs", "1"],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
            check=False,
        )
    assert done.returncode == 6, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


def test_other_commands_never_import_the_server() -> None:
    for argv in (["explain", str(DATA / "seed-2016-07.log")], ["--help"]):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "psgdiag", *argv],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
            check=False,
        )
        imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
        heavy = {
            m for m in imported if m.split(".")[0] in ("starlette", "uvicorn", "python_multipart")
        }
        assert not heavy, f"{argv}: {sorted(heavy)}"
        assert not {m for m in imported if m.startswith("psgdiag.serve")}, argv


def test_openapi_refers_only_to_what_it_holds() -> None:
    doc = openapi_document()
    text = str(doc)
    for name in ("Explain", "Triage", "Incidents", "Error", "SignatureList", "Health"):
        assert name in doc["components"]["schemas"]
    assert "#/$defs/" not in text  # every copied reference was rebased
    assert "#/components/schemas/Explain/$defs/diagnosis" in text
