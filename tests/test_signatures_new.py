"""`psgdiag signatures new`: a valid experimental draft that matches its log, with collisions listed."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from psgdiag import api
from psgdiag.cli import app
from psgdiag.kb import load as kb_mod
from psgdiag.kb.draft import default_id, line_regex
from psgdiag.kb.regex import compile_regex

UNKNOWN = """PS C:\\Users\\{user}> Install-PSResource -Name {module} -Version {version} -Repository ContosoFeed
Install-PSResource: Package '{module}' could not be installed: the feed 'ContosoFeed' returned page {page} twice (ContinuationToken '{guid}').
Install-PSResource: Package(s) '{module}' could not be installed from repository 'ContosoFeed'.
"""


def _log(**kw: str) -> str:
    values = {
        "user": "jdoe",
        "module": "Contoso.Tools",
        "version": "1.2.3",
        "page": "3",
        "guid": "5f0c3a2e-8d41-4b7e-9a6f-2c1d0e9b8a7f",
    }
    values.update(kw)
    return UNKNOWN.format(**values)


@pytest.fixture()
def cases(tmp_path: Path) -> Path:
    root = tmp_path / "cases"
    (root / "feed-paging").mkdir(parents=True)
    (root / "feed-paging" / "fabrikam.log").write_text(
        _log(user="asmith", module="Fabrikam.Net", version="4.0.1", page="17"), encoding="utf-8"
    )
    (root / "none").mkdir()
    (root / "none" / "pester.log").write_text(
        "Tests completed in 2.1s\nTests Passed: 52, Failed: 0, Skipped: 0 NotRun: 0\n",
        encoding="utf-8",
    )
    return root


def test_draft_is_valid_matches_its_log_and_reports_collisions(tmp_path: Path, cases: Path) -> None:
    source = tmp_path / "ticket-4711.log"
    source.write_text(_log(), encoding="utf-8")
    kb = api.load_kb()
    assert not api.diagnose_text(_log(), kb=kb).diagnoses, "the sample must be unexplained"
    out = tmp_path / "drafts"
    res = CliRunner().invoke(
        app,
        ["signatures", "new", "--from", str(source), "--output", str(out), "--cases", str(cases)],
    )
    assert res.exit_code == 0, res.output
    files = list(out.glob("*.toml"))
    assert len(files) == 1
    data = tomllib.loads(files[0].read_text(encoding="utf-8"))
    assert data["status"] == "experimental" and data["id"] == files[0].stem
    regexes = [e["regex"] for e in data["evidence"] if "regex" in e]
    assert regexes and all("Contoso.Tools" not in r and "5f0c3a2e" not in r for r in regexes)
    assert "(?P<module>" in regexes[0]
    assert "jdoe" not in files[0].read_text(encoding="utf-8")
    assert "feed-paging/fabrikam.log" in res.stderr
    assert "pester.log" not in res.stderr
    # The draft loads as an extra signature folder and diagnoses its own log.
    with_draft = kb_mod.load([out], use_cache=False)
    report = api.diagnose_text(_log(), kb=with_draft)
    assert report.diagnoses and report.diagnoses[0].signature.id == data["id"]
    assert (
        report.diagnoses[0].variables
        and ("module", "Contoso.Tools") in dict(report.diagnoses[0].variables).items()
    )


def test_draft_prints_to_stdout_with_given_id(tmp_path: Path, cases: Path) -> None:
    source = tmp_path / "t.log"
    source.write_text(_log(), encoding="utf-8")
    res = CliRunner().invoke(
        app,
        [
            "signatures",
            "new",
            "--from",
            str(source),
            "--id",
            "feed-paging-loop",
            "--cases",
            str(cases / "none"),
        ],
    )
    assert res.exit_code == 0, res.output
    data = tomllib.loads(res.stdout)
    assert data["id"] == "feed-paging-loop"
    assert data["example"][0]["expect"] == "match"
    # tests/cases (when run from the checkout) plus the one near miss: none of them collide.
    assert re.search(r"no collision with [1-9][0-9]* sample cases", res.stderr), res.stderr


def test_bad_usage_is_a_one_line_error(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["signatures", "new", "--from", str(tmp_path / "missing.log")])
    assert res.exit_code == 4 and "no such file" in res.stderr
    src = tmp_path / "t.log"
    src.write_text(_log(), encoding="utf-8")
    res = runner.invoke(app, ["signatures", "new", "--from", str(src), "--id", "Not An Id"])
    assert res.exit_code == 2 and "kebab-case" in res.stderr
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    res = runner.invoke(app, ["signatures", "new", "--from", str(empty)])
    assert res.exit_code == 5 and "no error line" in res.stderr
    assert "Traceback" not in res.output


def test_line_regex_masks_variables_and_compiles_under_re2() -> None:
    line = (
        "Unable to download 'Az.Accounts' 2.12.1 from https://www.powershellgallery.com/api/v2 "
        "to C:\\Users\\jdoe\\x (took 30 s) [a+b]"
    )
    pattern = line_regex(line, "Az.Accounts")
    assert "Az\\.Accounts" not in pattern and "(?P<module>" in pattern
    assert "2.12.1" not in pattern and "jdoe" not in pattern
    rx = compile_regex(pattern)
    assert rx.search(line.replace("Az.Accounts", "Pester").replace("2.12.1", "5.5.0"))
    assert default_id([line]).startswith("draft-unable-to-download")


def test_triage_recognises_tickets_with_the_drafted_signature(tmp_path: Path) -> None:
    import json

    queue = tmp_path / "queue"
    queue.mkdir()
    (queue / "a.log").write_text(_log(), encoding="utf-8")
    (queue / "b.log").write_text(_log(module="Northwind.Data", page="9"), encoding="utf-8")
    runner = CliRunner()
    before = json.loads(runner.invoke(app, ["triage", str(queue), "-f", "json"]).stdout)
    assert [it["cause"] for it in before["items"]] == [None, None]
    assert len(before["clusters"]) == 1 and len(before["clusters"][0]["members"]) == 2
    drafts = tmp_path / "drafts"
    res = runner.invoke(
        app,
        [
            "signatures",
            "new",
            "--from",
            str(queue / "a.log"),
            "--id",
            "feed-paging-loop",
            "--output",
            str(drafts),
        ],
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["triage", str(queue), "-f", "json", "--signatures", str(drafts)])
    after = json.loads(res.stdout)
    assert [it["cause"] for it in after["items"]] == ["feed-paging-loop", "feed-paging-loop"]
    assert after["clusters"] == []
