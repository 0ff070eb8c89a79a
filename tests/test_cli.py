"""The explain command end to end through typer's runner and real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from psgdiag.cli import app
from tests.conftest import DATA

runner = CliRunner()
SEED_JULY = DATA / "seed-2016-07.log"
SEED_MAY = DATA / "seed-2016-05.log"
SEED_UTF16 = DATA / "seed-2016-07-utf16.log"
PIP_ERROR = (
    "ERROR: Could not find a version that satisfies the requirement requestz (from versions: none)\n"
    "ERROR: No matching distribution found for requestz\n"
)


def _json(args: list[str], stdin: bytes | None = None) -> tuple[int, dict]:  # type: ignore[type-arg]
    res = runner.invoke(app, ["explain", "-f", "json", *args], input=stdin)
    return res.exit_code, json.loads(res.stdout)


@pytest.mark.parametrize("path", [SEED_JULY, SEED_MAY, SEED_UTF16])
def test_seed_failures_are_corrupt_downloads_from_a_file(path: Path) -> None:
    code, doc = _json([str(path)])
    assert doc["diagnoses"][0]["cause"] == "corrupt-package-download"
    assert doc["schema_version"] == 1
    assert code == 3  # transient: retry later


@pytest.mark.parametrize("path", [SEED_JULY, SEED_UTF16])
def test_seed_failure_from_stdin(path: Path) -> None:
    _code, doc = _json([], stdin=path.read_bytes())
    assert doc["diagnoses"][0]["cause"] == "corrupt-package-download"
    assert doc["source"] == "<stdin>"


def test_dash_reads_stdin_too() -> None:
    _, doc = _json(["-"], stdin=SEED_JULY.read_bytes())
    assert doc["diagnoses"][0]["cause"] == "corrupt-package-download"


def test_pip_error_gives_no_diagnosis_and_exit_zero(tmp_path: Path) -> None:
    log = tmp_path / "pip.log"
    log.write_text(PIP_ERROR)
    code, doc = _json([str(log)])
    assert doc["diagnoses"] == [] and doc["verdict"] == "none" and code == 0


def test_evidence_lines_point_into_the_original_file() -> None:
    _, doc = _json([str(SEED_MAY)])
    lines = SEED_MAY.read_text().splitlines()
    for ev in doc["diagnoses"][0]["evidence"]:
        if ev["line"]:
            assert ev["text"].split()[0] in lines[ev["line"] - 1]


def test_several_files_give_a_json_array(tmp_path: Path) -> None:
    pip = tmp_path / "pip.log"
    pip.write_text(PIP_ERROR)
    res = runner.invoke(app, ["explain", "-f", "json", str(SEED_JULY), str(pip)])
    docs = json.loads(res.stdout)
    assert [len(d["diagnoses"]) > 0 for d in docs] == [True, False]
    assert res.exit_code == 3


def test_exit_zero() -> None:
    res = runner.invoke(app, ["explain", "--exit-zero", str(SEED_JULY)])
    assert res.exit_code == 0
    assert "corrupt-package-download" in res.stdout


def test_rich_output_shows_cause_evidence_and_remedy() -> None:
    res = runner.invoke(app, ["explain", str(SEED_JULY)])
    out = res.stdout
    assert "corrupt-package-download" in out
    assert "End of Central Directory" in out
    assert "Install-Module -Name xStorage -Force" in out


def test_markdown_masks_secrets(tmp_path: Path) -> None:
    log = tmp_path / "k.log"
    log.write_text(
        "PS C:\\Users\\jdoe> Publish-Module -Name X -NuGetApiKey oy2abcdefghijklmnopqrstuvwxyz0123456789abcdefg\n"
        + SEED_JULY.read_text()
    )
    res = runner.invoke(app, ["explain", "-f", "markdown", str(log)])
    assert "oy2abcdef" not in res.stdout
    assert "### Most likely cause" in res.stdout


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["explain", "-f", "yaml", "x"], 2, "unknown format"),
        (["explain", "--at", "yesterday-ish", str(SEED_JULY)], 2, "is not a date"),
        (["explain", "/nonexistent/file.log"], 4, "no such file"),
        (["explain", "."], 4, "is a directory"),
        (["explain", "-", "-"], 2, "only once"),
    ],
)
def test_user_mistakes_give_one_line_errors(args: list[str], code: int, needle: str) -> None:
    res = runner.invoke(app, args, input=b"")
    assert res.exit_code == code
    assert needle in res.stderr
    assert "Traceback" not in res.stderr + res.stdout


def test_broken_signature_folder_is_kb_invalid(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text("id = 'broken'\ntitle = \n")
    res = runner.invoke(app, ["explain", "--signatures", str(tmp_path), str(SEED_JULY)])
    assert res.exit_code == 5
    assert "broken.toml" in res.stderr and "invalid TOML" in res.stderr


def test_at_date_without_incident_data_keeps_cause() -> None:
    _code, doc = _json(["--at", "2019-03-01", str(SEED_JULY)])
    assert doc["facts"]["time"]["origin"] == "--at"
    assert doc["diagnoses"][0]["incident"] is None


def test_version_and_module_entry_point() -> None:
    res = runner.invoke(app, ["--version"])
    assert res.stdout.startswith("psgdiag ")
    proc = subprocess.run(
        [sys.executable, "-m", "psgdiag", "explain", "-f", "json", str(SEED_JULY)],
        capture_output=True,
        check=False,
    )
    assert json.loads(proc.stdout)["diagnoses"][0]["cause"] == "corrupt-package-download"


def test_ascii_console_never_fails() -> None:
    env = dict(os.environ, PYTHONIOENCODING="ascii")
    proc = subprocess.run(
        [sys.executable, "-m", "psgdiag", "explain", str(DATA / "seed-2016-07.log")],
        capture_output=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 3, proc.stderr
    proc.stdout.decode("ascii")  # every byte is ASCII


def test_closed_stdin_is_an_input_error() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "psgdiag", "explain"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
    # /dev/null is an empty input, not an error: nothing recognised.
    assert proc.returncode == 0
    assert b"No known cause" in proc.stdout


def test_piped_rich_output_does_not_break_evidence_lines() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "psgdiag", "explain", str(SEED_MAY)],
        capture_output=True,
        check=False,
        env=dict(os.environ, COLUMNS="40"),
    )
    out = proc.stdout.decode()
    original = SEED_MAY.read_text().splitlines()
    printed = [ln.strip() for ln in out.splitlines() if ln.lstrip().startswith("L")]
    assert printed, out
    for ln in printed:
        no, text = ln[1:].split(None, 1)
        assert text == " ".join(original[int(no) - 1].split())
    assert "\x1b[" not in out


def test_signatures_show_and_list() -> None:
    res = runner.invoke(app, ["signatures", "show", "corrupt-package-download"])
    assert res.exit_code == 0
    assert res.stdout.startswith("corrupt-package-download: ")
    for section in ("What", "Evidence", "Remedies", "Examples"):
        assert f"\n{section}\n" in res.stdout
    assert "{module" not in res.stdout
    res = runner.invoke(app, ["signatures", "show", "corupt-package-download"])
    assert res.exit_code == 2 and "did you mean: corrupt-package-download" in res.stderr
    res = runner.invoke(app, ["signatures", "list", "-f", "json"])
    ids = [s["id"] for s in json.loads(res.stdout)["signatures"]]
    assert "corrupt-package-download" in ids and ids == sorted(ids)


def test_output_of_another_tool_is_not_diagnosed_and_says_so(tmp_path: Path) -> None:
    log = tmp_path / "pmc.log"
    log.write_text(
        "PM> Install-Package Contoso.Client -Version 1.2.3\n"
        "Install-Package : The specified path, file name, or both are too long. The fully qualified "
        "file name must be less than 260 characters, and the directory name must be less than 248 "
        "characters.\n"
        "    + FullyQualifiedErrorId : NuGetCmdletUnhandledException,NuGet.PackageManagement."
        "PowerShellCmdlets.InstallPackageCommand\n"
    )
    code, doc = _json([str(log)])
    assert doc["diagnoses"] == [] and code == 0
    assert "Package Manager Console" in doc["notes"][0]


# ------------------------------------------------------------------ format choices, --debug

ALL_FORMATS = "use one of: rich, json, markdown, github, azure, junit"


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["explain", "-f", "xml", "x.log"], ALL_FORMATS),
        (["explain", "--format=xml", "x.log"], ALL_FORMATS),
        (["explain", "-fxml", "x.log"], ALL_FORMATS),
        (["run", "-f", "xml", "--", "true"], ALL_FORMATS),
        (["triage", "-f", "xml", "x.log"], "use one of: rich, json, csv, markdown, html"),
        (["probe", "-f", "xml"], "use rich or json"),
        (["signatures", "list", "-f", "xml"], "use rich or json"),
        (["signatures", "check", "-f", "xml"], "use rich or json"),
        (["incidents", "list", "-f", "xml"], "use rich or json"),
        (["incidents", "show", "INC-2016-07-11-cdn", "-f", "xml"], "use rich or json"),
        (["incidents", "import", "status.md", "-f", "xml"], "use rich or json"),
    ],
)
def test_a_format_outside_the_choices_is_a_one_line_usage_error(args: list[str], hint: str) -> None:
    res = runner.invoke(app, args)
    assert res.exit_code == 2
    assert res.stderr == f"psgdiag: error: unknown format 'xml'\n  hint: {hint}\n"
    assert res.stdout == ""


def test_the_explain_formats_are_the_renderers() -> None:
    from psgdiag import render
    from psgdiag.cli.common import ReportFormat

    assert tuple(ReportFormat) == render.FORMATS


def test_other_usage_errors_keep_clicks_usage_block() -> None:
    res = runner.invoke(app, ["explain", "--no-such-option"])
    assert res.exit_code == 2 and "No such option" in res.stderr and "Usage:" in res.stderr


def test_debug_travels_in_the_context_and_ends_with_its_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PSGDIAG_DEBUG", raising=False)
    res = runner.invoke(app, ["--debug", "explain", "/nonexistent/x.log"])
    assert res.exit_code == 4 and "no such file" in res.stderr
    assert "Traceback" in res.stderr
    assert "PSGDIAG_DEBUG" not in os.environ
    res = runner.invoke(app, ["explain", "/nonexistent/x.log"])
    assert res.exit_code == 4 and "Traceback" not in res.stderr


def test_an_internal_error_is_one_line_unless_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    from psgdiag import api

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(api, "load_kb", broken)
    res = runner.invoke(app, ["explain", str(SEED_JULY)])
    assert res.exit_code == 70 and "Traceback" not in res.stderr
    assert res.stderr.startswith("psgdiag: internal error: RuntimeError: simulated bug\n")
    res = runner.invoke(app, ["--debug", "explain", str(SEED_JULY)])
    assert isinstance(res.exception, RuntimeError)  # re-raised for the traceback
