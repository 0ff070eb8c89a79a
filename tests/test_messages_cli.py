"""`psgdiag messages` and the catalog coverage of `signatures check`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from psgdiag.cli import app
from psgdiag.kb.catalog import load_catalog
from psgdiag.kb.coverage import cause_coverage, coverage
from psgdiag.kb.load import load
from tests.sigfactory import make

SEED = Path(__file__).parent / "data" / "seed-2016-07.log"


def _run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(app, list(args))
    return res.exit_code, res.stdout


def test_show_gives_identity_template_translations_and_causes() -> None:
    code, out = _run("messages", "show", "PackageManagement.NoMatchFoundForProvider", "-f", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["error_ids"] == ["NoMatchFoundForProvider"]
    assert "{provider}" in doc["template"]
    assert "nuget-provider-missing" in doc["causes"]
    assert all(t["source"] for t in doc["translations"])


def test_show_an_unknown_id_suggests_the_nearest() -> None:
    res = CliRunner().invoke(app, ["messages", "show", "NoMatchFoundForProvider"])
    assert res.exit_code == 2
    assert "did you mean: PackageManagement.NoMatchFoundForProvider" in res.stderr


def test_list_used_and_unused_partition_the_catalog() -> None:
    _, used = _run("messages", "list", "--used", "-f", "json")
    _, unused = _run("messages", "list", "--unused", "-f", "json")
    used_ids = {m["id"] for m in json.loads(used)["messages"]}
    unused_ids = {m["id"] for m in json.loads(unused)["messages"]}
    assert used_ids and not used_ids & unused_ids
    assert used_ids | unused_ids == set(load_catalog().messages)


def test_scan_shows_what_the_seed_log_says() -> None:
    code, out = _run("messages", "scan", str(SEED), "-f", "json")
    assert code == 0
    said = {(m["id"], m["how"]) for m in json.loads(out)["messages"]}
    assert ("DotNet.EOCDNotFound", "template") in said
    assert ("NuGetProvider.PackageFailedToInstallReason", "fqid") in said


def test_coverage_counts_identity_evidence_as_language_neutral() -> None:
    body = """
[[evidence]]
name = "by_id"
strength = "strong"
message = "PackageManagement.NoMatchFoundForProvider"
[[evidence]]
name = "by_text"
strength = "strong"
text = "some English sentence nobody printed"
[match]
requires_any = ["by_id", "by_text"]
"""
    sig = make("x", body)
    cov = cause_coverage(sig, {"PackageManagement.NoMatchFoundForProvider"})
    assert cov.language_neutral and cov.via == ("by_id",)
    assert not cause_coverage(sig, set()).language_neutral


def test_coverage_of_the_bundled_knowledge_base() -> None:
    cov = coverage(load(), load_catalog())
    assert len(cov.causes) == len(load().signatures)
    assert "PackageManagement.NoMatchFoundForProvider" not in cov.unused_messages
    assert cov.unused_messages  # most of the catalog is names no cause uses yet


def test_scan_finds_a_distinctive_error_id_written_outside_an_fqid(tmp_path: Path) -> None:
    # A cut FQID (its cmdlet class lost to a wrap) and an error id quoted in prose are found by
    # the error id alone; the index keeps ids in lower case, the CamelCase test needs the original.
    log = tmp_path / "cut.log"
    log.write_text(
        "    + FullyQualifiedErrorId : NoMatchFoundForProvider,Microsoft.PowerShell.Pack\n"
        "the job stops with PowerShellGalleryUnavailable every night\n",
        encoding="utf-8",
    )
    code, out = _run("messages", "scan", str(log), "-f", "json")
    assert code == 0
    said = {(m["id"], m["how"]) for m in json.loads(out)["messages"]}
    assert ("PackageManagement.NoMatchFoundForProvider", "error-id") in said
    assert ("PowerShellGet.PowerShellGalleryUnavailable", "error-id") in said
