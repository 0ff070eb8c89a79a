"""Redaction touches the user's text only, in every redacting output.

Every signature's summary, why, hint and remedies (with their commands) are rendered through
every format that redacts (markdown, GitHub annotations and job summary, Azure, JUnit, JSON,
the terminal card with --redact, the serve page, the triage reports) once masked and once not.
The masked output must equal the unmasked one with the input's secrets replaced by their masks,
and nothing else changed: psgdiag's own words and commands come out exactly as written.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from psgdiag import api, render
from psgdiag.model import (
    Diagnosis,
    Document,
    Facts,
    Hit,
    Line,
    Remedy,
    Report,
    Risk,
    Scope,
    Signature,
    Strength,
)
from psgdiag.pipeline.score import fill
from psgdiag.record import replace
from psgdiag.redact import found, redact
from psgdiag.redact.report import masked_report
from psgdiag.render.github import render as github_render
from psgdiag.serve.card import report_html
from psgdiag.triage.batch import TriageResult
from psgdiag.triage.html import render_html
from psgdiag.triage.item import item_from_report
from psgdiag.triage.report import render_csv, render_json, render_markdown
from tests.redact_corpus import ADO, GHP, NUGET, PASSWORD

USER = "ozymandias"  # a user name no signature text contains
SOURCE = f"C:\\Users\\{USER}\\tickets\\t-4711.log"
LOG = [
    f"PS C:\\Users\\{USER}> Publish-Module -Name Contoso.Tools -NuGetApiKey {NUGET}",
    f"Register-PSRepository -Name Feed -SourceLocation https://{USER}:{ADO}@pkgs.dev.azure.com/f/v2",
    f"WARNING: token {GHP} was rejected; mail ozy@example.org",
    "Install-Module : No match was found for the specified search criteria.",
]
PLACEHOLDER = re.compile(r"\{([a-z_]+)(?:\|[^{}]*)?\}")
# Values filled into placeholders: some carry secrets (a feed URL with a password, a profile
# path), some do not (a module name, which stays).
VALUES = {
    "module": "Contoso.Tools",
    "dependency": "Contoso.Base",
    "repository": f"https://{USER}:{PASSWORD}@feed.example.org/nuget/v2",
    "uri": f"https://{USER}:{PASSWORD}@feed.example.org/nuget/v2",
    "source": f"https://{USER}:{PASSWORD}@feed.example.org/nuget/v2",
    "path": f"C:\\Users\\{USER}\\Documents\\PowerShell\\Modules\\Contoso.Tools",
    "file": f"C:\\Users\\{USER}\\Documents\\PowerShell\\Modules\\Contoso.Tools\\x.psd1",
    "host": "feed.example.org",
}
# psgdiag's own text that the old whole-output redaction rewrote (issue 15): must stay as is.
CANARY_COMMAND = (
    "Set-Secret -Name ContosoFeedPat -Secret (Get-Credential NORTHWIND\\jdoe)\n"
    "$cred = Get-Credential NORTHWIND\\jdoe   # password = personal access token\n"
    "Register-PSRepository -Name {repository|MyFeed} -Credential $cred"
)


def _canary(base: Signature) -> Signature:
    remedy = Remedy("Store the feed credential", CANARY_COMMAND, Scope.USER, Risk.SAFE, False)
    explain = replace(
        base.explain, hint="Pass -Credential with user name + PAT; Password=the PAT itself."
    )
    return replace(base, id="redaction-canary", remedies=(remedy,), explain=explain)


def _signatures() -> list[Signature]:
    sigs = [s for s in api.load_kb().signatures if s.remedies]
    return [*sigs, _canary(sigs[0])]


def _names(sig: Signature) -> set[str]:
    texts = [sig.explain.summary, sig.explain.settle]
    texts += [t for r in sig.remedies for t in (r.title, r.command, r.verify)]
    return {m.group(1) for t in texts for m in PLACEHOLDER.finditer(t)}


def _report(sig: Signature) -> Report:
    lines = tuple(Line(no, text, text) for no, text in enumerate(LOG, 1))
    doc = Document(lines, "utf-8", SOURCE, len(lines))
    variables = {n: VALUES.get(n, f"value-{n}") for n in sorted(_names(sig))}
    hits = (
        Hit("secret_line", Strength.STRONG, "regex", 1, 1, LOG[0]),
        Hit("url_line", Strength.MEDIUM, "regex", 2, 3, LOG[1]),
    )
    diagnosis = Diagnosis(
        signature=sig,
        confidence=0.9,
        hits=hits,
        fault=sig.fault,
        transient=sig.transient,
        summary=fill(sig.explain.summary, variables),
        variables=tuple(sorted(variables.items())),
    )
    return Report((diagnosis,), (), Facts(), doc, "test", "fix")


def _rendered(fmt: str, tmp: Path) -> Callable[[Report, bool], str]:
    def one(report: Report, redacted: bool) -> str:
        out = io.StringIO()
        options = render.Options(redact=redacted)
        if fmt == "github":
            summary = tmp / f"summary-{redacted}.md"
            summary.write_text("")
            github_render([report], out, options, environ={"GITHUB_STEP_SUMMARY": str(summary)})
            return out.getvalue() + summary.read_text()
        if fmt == "serve":
            return report_html(report, redacted=redacted)
        if fmt.startswith("triage-"):
            shown = masked_report(report) if redacted else report
            item = item_from_report(redact(SOURCE) if redacted else SOURCE, shown, None)
            result = TriageResult((item,), (), "test", ())
            writer = {
                "triage-html": render_html,
                "triage-json": render_json,
                "triage-markdown": render_markdown,
                "triage-csv": render_csv,
            }[fmt]
            writer(result, out)
            return out.getvalue()
        render.get(fmt)([report], out, options)
        return out.getvalue()

    return one


def _expected(plain: str, report: Report) -> str:
    """The unmasked output with each secret of the input (and of the values) replaced."""
    pieces = found("\n".join(LOG)) | found(SOURCE)
    for _name, value in report.diagnoses[0].variables:
        pieces |= found(value)
    for piece in sorted(pieces, key=len, reverse=True):
        plain = plain.replace(piece, pieces[piece])
    return plain


FORMATS = [
    "markdown",
    "github",
    "azure",
    "junit",
    "json",
    "rich",
    "serve",
    "triage-html",
    "triage-json",
    "triage-markdown",
    "triage-csv",
]


@pytest.mark.parametrize("fmt", FORMATS)
def test_only_input_values_differ_for_every_signature(fmt: str, tmp_path: Path) -> None:
    one = _rendered(fmt, tmp_path)
    for sig in _signatures():
        report = _report(sig)
        plain, masked = html.unescape(one(report, False)), html.unescape(one(report, True))
        assert NUGET in plain and NUGET not in masked, (fmt, sig.id)
        assert USER not in masked, (fmt, sig.id)
        assert masked == _expected(plain, report), (fmt, sig.id)


def test_the_canary_would_have_been_rewritten_by_whole_text_redaction() -> None:
    assert redact(CANARY_COMMAND) != CANARY_COMMAND  # what issue 15 reported
    out = io.StringIO()
    report = _report(_canary(_signatures()[0]))
    render.get("markdown")([report], out, render.Options(redact=True))
    shown = fill(CANARY_COMMAND, {"repository": "https://***:***@feed.example.org/nuget/v2"})
    for line in shown.splitlines():
        assert f"   {line}\n" in out.getvalue()


def test_a_value_secret_by_its_context_is_masked_where_it_is_filled_in() -> None:
    """`-ApiKey abc123` makes abc123 a secret, also when a placeholder repeats it."""
    sig = _signatures()[-1]
    report = _report(sig)
    diagnosis = replace(
        report.diagnoses[0], variables=(("module", "Contoso.Tools"), ("repository", NUGET))
    )
    masked = masked_report(replace(report, diagnoses=(diagnosis,)))
    assert dict(masked.diagnoses[0].variables) == {"module": "Contoso.Tools", "repository": "***"}


def test_a_slot_named_as_a_secret_or_a_person_is_masked_whatever_it_looks_like() -> None:
    report = _report(_signatures()[-1])
    slots = (("slot_user", "kim"), ("slot_password", "letmein"), ("slot_module", "Az.Accounts"))
    diagnosis = replace(report.diagnoses[0], variables=slots)
    masked = masked_report(replace(report, diagnoses=(diagnosis,)))
    assert dict(masked.diagnoses[0].variables) == {
        "slot_user": "<user>",
        "slot_password": "***",
        "slot_module": "Az.Accounts",
    }


def test_a_private_key_block_is_masked_and_the_line_numbers_stay() -> None:
    from tests.redact_corpus import PEM_BODY, PRIVATE_KEY

    text = "line one\n" + PRIVATE_KEY + "\nInstall-Module : failed"
    report = api.diagnose_text(text, incidents=())
    masked = masked_report(report)
    assert len(masked.document.lines) == len(report.document.lines)
    shown = "\n".join(ln.text for ln in masked.document.lines)
    assert all(part not in shown for part in PEM_BODY)
    assert masked.document.lines[-1].text == report.document.lines[-1].text


def test_issue_15_private_feed_401_reply_keeps_the_remedies_copyable(tmp_path: Path) -> None:
    """`explain -f markdown` on a private-feed 401: the log's secrets masked, commands intact."""
    import json

    from typer.testing import CliRunner

    from psgdiag.cli import app
    from tests.conftest import CASES

    log = tmp_path / "feed-401.log"
    original = sorted((CASES / "repository-auth-failed").glob("*.log"))[0].read_bytes()
    log.write_bytes(original + f"VERBOSE: PAT used: {ADO}\n".encode())
    runner = CliRunner()
    reply = runner.invoke(app, ["explain", "-f", "markdown", str(log)]).stdout
    plain = json.loads(runner.invoke(app, ["explain", "-f", "json", str(log)]).stdout)
    assert ADO not in reply and ADO in log.read_text()
    top = plain["diagnoses"][0]
    commands = [r["command"] for r in top["remedies"] if r["command"]]
    assert commands
    for command in commands:  # filled with this log's module and feed names, nothing secret
        for line in command.splitlines():
            assert f"   {line}\n" in reply, line
