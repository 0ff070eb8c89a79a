"""The CI renderers (github, azure, junit): golden files, escaping, caps, summary, valid XML."""

from __future__ import annotations

import io
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from psgdiag import api, render
from psgdiag.model import KnowledgeBase, Report
from psgdiag.pipeline.when import parse_at
from psgdiag.render import azure, github, junit
from tests.test_render import CASES as SHARED_CASES
from tests.test_render import _raw_confidence as _raw_confidence  # golden numbers: the ranker's
from tests.test_render import _reports as shared_reports

GOLDEN = Path(__file__).parent / "golden"
CHILD_DIR = Path(__file__).parent / "child_scripts"
SIGS = CHILD_DIR / "signatures"
FORMATS = ["github", "azure", "junit"]

GALLERY_503 = (CHILD_DIR / "fake_install.py").read_text()  # only to keep one source of truth
_BLOCKS = dict(re.findall(r'(\w+) = """\\\n(.*?)"""', GALLERY_503, re.S))
LOG_503 = _BLOCKS["GALLERY_503"].replace("\\\n", "").format(retry_after="30")
LOG_ADMIN = _BLOCKS["ADMIN_ERR"].replace("\\\n", "").replace("\\\\", "\\")
# Every character the platforms escape, a secret, an ANSI colour code, a BEL and a NUL.
LOG_NASTY = (
    "\x1b[31mInstall-Module : Administrator rights are required to install modules in "
    "'C:\\Mods;100%],a:b\x07\x00'. -NuGetApiKey oy2abcdefghijklmnopqrstuvwxyz0123456789abcdefghi"
    "\x1b[0m\r\n"
)


def _kb() -> KnowledgeBase:
    full = api.load_kb([SIGS])
    mine = {p.stem for p in SIGS.glob("*.toml")}
    return KnowledgeBase(tuple(s for s in full.signatures if s.id in mine), "test")


def _own(text: str, source: str = "<stdin>") -> Report:
    at = parse_at("2026-03-01T12:00:00Z")
    return api.diagnose_text(text, kb=_kb(), at=at, incidents=(), source=source)


def _reports(name: str) -> list[Report]:
    if name in SHARED_CASES:
        return shared_reports(name)
    if name == "two-causes":
        return [_own(LOG_503 + LOG_ADMIN, source="logs/install.log")]
    if name == "nasty":
        return [_own(LOG_NASTY)]
    raise KeyError(name)


def _render(fmt: str, reports: list[Report], **kw: object) -> str:
    out = io.StringIO()
    if fmt == "github":
        github.render(reports, out, render.Options(), environ={}, **kw)  # type: ignore[arg-type]
    else:
        render.get(fmt)(reports, out, render.Options())
    return out.getvalue()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", [*SHARED_CASES, "two-causes", "nasty"])
def test_golden(fmt: str, name: str) -> None:
    text = _render(fmt, _reports(name))
    path = GOLDEN / fmt / f"{name}.txt"
    if os.environ.get("PSGDIAG_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    assert text == path.read_text(encoding="utf-8")


# ------------------------------------------------------------------ escaping, per platform


def _gh_unescape(text: str, prop: bool) -> str:
    pairs = [("%0D", "\r"), ("%0A", "\n")] + ([("%3A", ":"), ("%2C", ",")] if prop else [])
    for k, v in [*pairs, ("%25", "%")]:
        text = text.replace(k, v)
    return text


def _az_unescape(text: str, prop: bool) -> str:
    pairs = [("%0D", "\r"), ("%0A", "\n")] + ([("%3B", ";"), ("%5D", "]")] if prop else [])
    for k, v in [*pairs, ("%AZP25", "%")]:
        text = text.replace(k, v)
    return text


NASTY = "100%25 raw %, CR\r LF\n colon: comma, semi; bracket] end"


def test_github_escaping_follows_the_runner_rules() -> None:
    assert github.escape_data("a%b\rc\nd:e,f") == "a%25b%0Dc%0Ad:e,f"
    assert github.escape_property("a%b\rc\nd:e,f") == "a%25b%0Dc%0Ad%3Ae%2Cf"
    for prop in (False, True):
        esc = github.escape_property(NASTY) if prop else github.escape_data(NASTY)
        assert not re.search(r"[\r\n]", esc)
        assert _gh_unescape(esc, prop) == NASTY
    line = github.command(github.Annotation("error", NASTY, NASTY, "a,b:c.log", 7))
    m = re.fullmatch(r"::error (?P<props>[^:]*)::(?P<msg>[^\r\n]*)", line)
    assert m is not None
    props = dict(p.split("=", 1) for p in m["props"].split(","))
    assert _gh_unescape(props["title"], True) == NASTY
    assert _gh_unescape(props["file"], True) == "a,b:c.log"
    assert props["line"] == "7"
    assert _gh_unescape(m["msg"], False) == NASTY


def test_azure_escaping_follows_the_agent_rules() -> None:
    assert azure.escape_data("a%b\rc\nd;e]f") == "a%AZP25b%0Dc%0Ad;e]f"
    assert azure.escape_property("a%b\rc\nd;e]f") == "a%AZP25b%0Dc%0Ad%3Be%5Df"
    line = azure.command(github.Annotation("warning", "t", NASTY, "x;y].log", 3, "c;d"))
    m = re.fullmatch(r"##vso\[task\.logissue (?P<props>[^\]]*)\](?P<msg>[^\r\n]*)", line)
    assert m is not None
    props = dict(p.split("=", 1) for p in m["props"].rstrip(";").split(";"))
    assert props["type"] == "warning" and props["linenumber"] == "3"
    assert _az_unescape(props["sourcepath"], True) == "x;y].log"
    assert _az_unescape(props["code"], True) == "c;d"
    assert _az_unescape(m["msg"], False) == "t: " + NASTY


@pytest.mark.parametrize("fmt", ["github", "azure"])
def test_every_output_line_is_one_complete_command(fmt: str) -> None:
    text = _render(fmt, _reports("nasty") + _reports("two-causes"))
    prefix = "::" if fmt == "github" else "##vso["
    for line in text.splitlines():
        assert line.startswith(prefix), line
    assert "\r" not in text
    assert "oy2abcdefghij" not in text  # the API key was masked
    assert not re.search("[\x00-\x08\x7f]", text)  # controls are shown as \\xNN
    assert "a:b\\x07\\x00'" in text


# ------------------------------------------------------------------ levels, caps, summary


def test_best_diagnosis_is_an_error_and_further_ones_are_warnings() -> None:
    text = _render("github", _reports("two-causes"))
    levels = [line.split(" ", 1)[0] for line in text.splitlines()]
    assert levels == ["::error", "::warning"]
    assert text.startswith("::error file=logs/install.log,line=")
    az = _render("azure", _reports("two-causes")).splitlines()
    assert az[0].startswith("##vso[task.logissue type=error;sourcepath=logs/install.log;")
    assert az[1].startswith("##vso[task.logissue type=warning;")
    assert az[-1].startswith("##vso[task.complete result=Failed;]")


@pytest.mark.parametrize("fmt", ["github", "azure"])
def test_annotation_caps_are_respected(fmt: str) -> None:
    many = [_own(LOG_503 + LOG_ADMIN, source=f"<run {i}>") for i in range(13)]
    lines = _render(fmt, many).splitlines()
    for level in ("error", "warning"):
        kept = [ln for ln in lines if f"::{level} " in ln or f"type={level};" in ln]
        assert len(kept) == 10
        assert f"4 more {level}s" in kept[-1]
    # Input order is kept: each report's error is followed by its warning.
    assert "error" in lines[0] and "warning" in lines[1] and "error" in lines[2]


def test_nothing_recognised_is_a_notice_and_leaves_the_azure_result_alone() -> None:
    gh = _render("github", _reports("nothing"))
    assert gh == "::notice file=case.log,title=psgdiag::No known cause recognised in case.log.\n"
    az = _render("azure", _reports("nothing"))
    assert "task.logissue" not in az and "task.complete" not in az


def test_job_summary_is_appended_when_the_variable_is_set(tmp_path: Path) -> None:
    summary = tmp_path / "step_summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    out = io.StringIO()
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    github.render(_reports("two-causes"), out, render.Options(), environ=env)
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n## psgdiag\n")
    assert "gallery-service-error" in text and "admin-rights-required" in text
    assert "::" not in text.split("\n", 1)[0]


def test_an_unwritable_summary_is_a_warning_not_a_crash(tmp_path: Path) -> None:
    out = io.StringIO()
    env = {"GITHUB_STEP_SUMMARY": str(tmp_path / "missing-dir" / "summary.md")}
    github.render(_reports("two-causes"), out, render.Options(), environ=env)
    assert out.getvalue().splitlines()[-1].startswith("::warning title=psgdiag::job summary")


# ------------------------------------------------------------------ junit


def test_junit_is_valid_xml_with_one_case_per_diagnosis() -> None:
    root = ET.fromstring(_render("junit", _reports("two-causes") + _reports("nothing")))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures")) == ("3", "2")
    first, second = root.findall("testsuite")
    cases = {c.get("name"): c for c in first.findall("testcase")}
    assert sorted(cases) == ["admin-rights-required", "gallery-service-error"]
    failure = cases["gallery-service-error"].find("failure")
    assert failure is not None and failure.get("type") == "gallery-service-error"
    assert "(503) Server Unavailable" in (failure.text or "")
    passing = second.findall("testcase")
    assert [c.get("name") for c in passing] == ["no-known-cause"]
    assert passing[0].find("failure") is None


def test_junit_stays_valid_with_control_characters_and_masks_secrets() -> None:
    text = _render("junit", _reports("nasty"))
    root = ET.fromstring(text)
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None
    assert "100%],a:b\\x07\\x00'" in (failure.text or "")
    assert "oy2abcdefghij" not in text
    assert junit.xml_text("a\x00b\x1bc\ufffed\tok") == "a\\x00b\\x1bc\\xfffed\tok"
