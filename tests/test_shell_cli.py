"""`psgdiag shell pwsh`: the profile helper parses as PowerShell, and explain reads what it sends."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from psgdiag.cli import app
from psgdiag.cli.shell_cli import RECORD_HEADER, profile_text

runner = CliRunner()
CHILD_DIR = Path(__file__).parent / "child_scripts"
SIGS = CHILD_DIR / "signatures"
RECORDS = sorted((CHILD_DIR / "records").glob("*.txt"))
EXPECTED = {
    "winps51-admin-rights.txt": ("admin-rights-required", 1, "5.1.19041.4291", "Desktop"),
    "pwsh74-psresourceget-503.txt": ("gallery-service-error", 3, "7.4.6", "Core"),
}


def test_shell_pwsh_prints_the_profile_helper() -> None:
    res = runner.invoke(app, ["shell", "pwsh"])
    assert res.exit_code == 0
    assert res.stdout == profile_text("pwsh")
    for needle in (
        "function Format-PsgdiagRecord",
        "function Invoke-Psgdiag",
        "Set-Alias -Name psgdiag-last -Value Invoke-Psgdiag",
        f"'{RECORD_HEADER}'",
        "| psgdiag explain @ArgumentList",
    ):
        assert needle in res.stdout


def test_an_unknown_shell_is_a_usage_error() -> None:
    res = runner.invoke(app, ["shell", "fish"])
    assert res.exit_code == 2
    assert "no helper for shell 'fish'" in res.stderr


def test_the_helper_is_valid_powershell() -> None:
    ts = pytest.importorskip("tree_sitter")
    grammar = pytest.importorskip("tree_sitter_powershell")
    parser = ts.Parser(ts.Language(grammar.language()))
    # The grammar does reject broken PowerShell, so a clean parse means something.
    assert parser.parse(b"function X { if ($a) { 'x' }\n").root_node.has_error
    tree = parser.parse(profile_text("pwsh").encode("utf-8"))
    assert not tree.root_node.has_error
    statements = next(n for n in tree.root_node.children if n.type == "statement_list")
    functions = [n for n in statements.children if n.type == "function_statement"]
    assert len(functions) == 2


def _templates() -> list[re.Pattern[str]]:
    """Each line the helper writes from a literal or a `'...' -f` template, as a regex."""
    text = profile_text("pwsh")
    literals = re.findall(r"^\s*'([^']+)'(?: -f .*)?$", text, re.M)
    out = []
    for lit in literals:
        parts = re.split(r"\{\d+(?:,-?\d+)?\}", lit)
        out.append(re.compile("^" + r"\s*\S.*?".join(re.escape(p) for p in parts) + r"\s*$"))
    return out


def test_the_samples_have_exactly_the_layout_the_helper_writes() -> None:
    templates = _templates()
    assert len(templates) >= 9  # header, versions, time, module rows, error lines, stack trace
    lines = [ln for rec in RECORDS for ln in rec.read_text(encoding="utf-8").splitlines()]
    for rx in templates:
        assert any(rx.match(ln) for ln in lines), f"no sample line for {rx.pattern}"
    for rec in RECORDS:
        first = rec.read_text(encoding="utf-8").splitlines()[0]
        assert first == RECORD_HEADER


@pytest.mark.parametrize("record", RECORDS, ids=lambda p: p.name)
def test_explain_reads_a_record(record: Path) -> None:
    cause, code, ps_version, edition = EXPECTED[record.name]
    res = runner.invoke(app, ["explain", "-f", "json", "--signatures", str(SIGS), str(record)])
    assert res.exit_code == code
    doc = json.loads(res.stdout)
    assert doc["diagnoses"][0]["cause"] == cause
    values = doc["facts"]["values"]
    assert values["ps_version"][0] == ps_version
    assert values["ps_edition"][0] == edition
    assert values["psget_version"][0] == "2.2.5"
    time = doc["facts"]["time"]
    assert time["origin"] == "ci-timestamp" and time["start"].startswith("2026-03-01T11:58:07")
    assert (
        any("FullyQualifiedErrorId" in e["text"] for e in doc["diagnoses"][0]["evidence"])
        or (doc["facts"]["fqids"])
    )


@pytest.mark.parametrize("record", RECORDS, ids=lambda p: p.name)
def test_the_bundled_knowledge_base_reads_a_record_too(record: Path) -> None:
    cause, code, _, _ = EXPECTED[record.name]
    res = runner.invoke(app, ["explain", "-f", "json", str(record)])
    assert res.exit_code == code
    assert json.loads(res.stdout)["diagnoses"][0]["cause"] == cause


DOCS = Path(__file__).parent.parent / "docs" / "ci.md"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)


def test_the_powershell_examples_in_the_ci_docs_parse() -> None:
    ts = pytest.importorskip("tree_sitter")
    grammar = pytest.importorskip("tree_sitter_powershell")
    parser = ts.Parser(ts.Language(grammar.language()))
    blocks = _blocks("powershell")
    assert len(blocks) >= 3
    for block in blocks:
        assert not parser.parse(block.encode("utf-8")).root_node.has_error, block


def test_the_pipeline_examples_in_the_ci_docs_are_yaml_that_runs_psgdiag() -> None:
    yaml = pytest.importorskip("yaml")
    blocks = _blocks("yaml")
    assert len(blocks) >= 3
    for block in blocks:
        doc = yaml.safe_load(block)
        if isinstance(doc, list):  # a continuation: more steps for the pipeline above
            steps = doc
        else:
            steps = doc["jobs"]["build"]["steps"] if "jobs" in doc else doc["steps"]
        commands = [s.get("run") or s.get("pwsh") or "" for s in steps if isinstance(s, dict)]
        assert any(c.startswith("psgdiag run ") and " -- pwsh " in c for c in commands), block
