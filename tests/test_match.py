"""Evidence matchers on the compact and spaced views, with original line numbers."""

from __future__ import annotations

from psgdiag.model import Said
from psgdiag.pipeline.extract import extract_facts
from psgdiag.pipeline.ingest import RawText
from psgdiag.pipeline.match import Matcher
from psgdiag.pipeline.normalize import normalize
from psgdiag.pipeline.textview import TextIndex, literal_regex
from tests.sigfactory import make


def _hits(text: str, body: str):  # type: ignore[no-untyped-def]
    doc = normalize(RawText(text, "utf-8", "t"))
    m = Matcher(TextIndex.build(doc), extract_facts(doc))
    return {h.evidence: h for h in m.signature(make("x-sig", body))}


TEXT_EV = """
[[evidence]]
name = "eocd"
strength = "strong"
text = "End of Central Directory record could not be found."
[match]
requires_any = ["eocd"]
"""


def test_literal_matches_across_a_mid_word_console_wrap() -> None:
    hits = _hits(
        "line one\nPackage 'x' failed because: End of Central Direc\ntory record could not be\nfound.\n",
        TEXT_EV,
    )
    assert (hits["eocd"].line_start, hits["eocd"].line_end) == (2, 4)


def test_literal_is_case_and_space_insensitive() -> None:
    assert "eocd" in _hits("END OF  CENTRAL   DIRECTORY RECORD could not be found.", TEXT_EV)


def test_literal_accepts_the_powershellget_rewrite() -> None:
    rx = literal_regex("Unable to find package sources.")
    assert rx.search("unabletofindmodulerepositories.")
    assert rx.search("unabletofindpackagesources.")
    assert not rx.search("unabletofindmodulesxyz")


def test_non_ascii_letters_match_question_marks_and_mojibake() -> None:
    rx = literal_regex("Référentiel non approuvé")
    assert rx.search("r?f?rentielnonapprouv?")
    assert rx.search("rã©fã©rentielnonapprouvã©")
    assert rx.search("référentielnonapprouvé")
    assert not rx.search("referentielnonapprouve")


def test_fuzzy_literal_tolerates_a_typo_but_not_unrelated_text() -> None:
    body = TEXT_EV.replace('text = "End', 'fuzzy = 90\ntext = "End')
    assert "eocd" in _hits("End of Central Directroy record could not be found.", body)
    assert "eocd" not in _hits("No match was found for the specified search criteria.", body)


def test_regex_runs_on_joined_lines_and_yields_groups() -> None:
    body = """
[[evidence]]
name = "wrapper"
strength = "context"
regex = '''Package '(?P<module>[^']+)' failed to be installed because'''
[match]
requires_any = ["wrapper"]
"""
    hits = _hits("x\nPackage 'Az.Accounts' failed to be\ninstalled because: boom\n", body)
    assert hits["wrapper"].groups == (("module", "Az.Accounts"),)
    assert (hits["wrapper"].line_start, hits["wrapper"].line_end) == (2, 3)


def test_fqid_matches_prefix_component() -> None:
    body = """
[[evidence]]
name = "fq"
strength = "strong"
fqid = "NoMatchFoundForCriteria"
[match]
requires_any = ["fq"]
"""
    log = "    + FullyQualifiedErrorId : NoMatchFoundForCriteria,Microsoft.PowerShell.PackageManagement.Cmdlets.InstallPackage\n"
    assert _hits(log, body)["fq"].line_start == 1
    assert "fq" not in _hits(
        log.replace("NoMatchFoundForCriteria", "NoMatchFoundForCriteriaX"), body
    )


def test_msg_key_http_status_exception_and_fact() -> None:
    body = """
[[evidence]]
name = "mk"
strength = "medium"
msg_key = "UnableToDownload"
[[evidence]]
name = "five"
strength = "strong"
http_status = "5xx"
[[evidence]]
name = "webex"
strength = "weak"
exception = "WebException"
[[evidence]]
name = "old_psget"
strength = "medium"
fact = "psget_version < 2.2.4"
[[evidence]]
name = "new_psget"
strength = "against"
fact = "psget_version >= 2.2.4"
[match]
requires_any = ["mk"]
"""
    log = (
        "WARNING: MSG:UnableToDownload «https://go.microsoft.com/fwlink/?LinkID=627338» «»\n"
        "System.Net.WebException: The remote server returned an error: (503) Server Unavailable.\n"
        "At C:\\Program Files\\WindowsPowerShell\\Modules\\PowerShellGet\\1.0.0.1\\PSModule.psm1:1809 char:21\n"
    )
    hits = _hits(log, body)
    assert set(hits) == {"mk", "five", "webex", "old_psget"}
    assert hits["five"].groups == (("http_status", "503"),)
    assert hits["old_psget"].line_start == 3


def test_time_fact_compares_the_failure_window() -> None:
    body = """
[[evidence]]
name = "after"
strength = "medium"
fact = "time >= 2020-04-01"
[match]
requires_any = ["after"]
"""
    assert "after" in _hits("2021-01-01T00:00:00.000Z hello\n", body)
    assert "after" not in _hits("2019-01-01T00:00:00.000Z hello\n", body)
    assert "after" not in _hits("no time here\n", body)


def test_mostly_non_ascii_literal_needs_an_exact_match() -> None:
    body = """
[[evidence]]
name = "ja"
strength = "strong"
text = "続行するには NuGet プロバイダーが必要です"
[match]
requires_any = ["ja"]
"""
    assert "ja" in _hits("続行するには NuGet プロバイダーが必要です\n", body)
    assert "ja" not in _hits(
        "see about_Execution_Policies at https:/go.microsoft.com/fwlink/?LinkID=135170 ? NuGet ?\n",
        body,
    )


def test_error_id_quoted_in_prose_counts_one_level_lower() -> None:
    body = """
[[evidence]]
name = "fq"
strength = "strong"
fqid = "InvalidAuthenticodeSignature,Validate-ModuleAuthenticodeSignature"
[match]
requires_any = ["fq"]
"""
    hit = _hits("The install stops with InvalidAuthenticodeSignature on the .psd1 file.\n", body)[
        "fq"
    ]
    assert hit.kind == "fqid-text" and hit.strength.value == "medium" and hit.line_start == 1
    assert "fq" not in _hits("error XInvalidAuthenticodeSignatureY\n", body)
    generic = body.replace("InvalidAuthenticodeSignature,", "InvalidData,")
    assert "fq" not in _hits("CategoryInfo : InvalidData: (:) [], Exception\n", generic)


def test_every_fact_needs_all_values_to_hold() -> None:
    import pytest

    from psgdiag.kb.schema import parse_fact
    from psgdiag.model import Facts, FactValue
    from psgdiag.pipeline.facts import eval_fact

    test = parse_fact(r"every host ~ ^www\.powershellgallery\.com$")
    assert test.every and test.name == "host" and test.op == "~"
    gallery = FactValue("www.powershellgallery.com", 3)
    private = FactValue("pkgs.dev.azure.com", 5)
    assert eval_fact(test, Facts(values={"host": (gallery,)}), ()) == (True, 3)
    assert eval_fact(test, Facts(values={"host": (gallery, private)}), ()) == (False, 0)
    assert eval_fact(test, Facts(), ()) == (False, 0)  # no host at all: nothing to hold for
    # without `every`, one matching value is enough
    assert eval_fact(
        parse_fact(r"host ~ powershellgallery"), Facts(values={"host": (private, gallery)}), ()
    )[0]
    for bad in ("every host exists", "every every host ~ x"):
        with pytest.raises(ValueError):
            parse_fact(bad)


BINDING = """\
Install-Module : A parameter cannot be found that matches parameter name '{param}'.
At line:1 char:29
+ Install-Module -Name Pester -{param}
+                             ~~~~~~~~
    + CategoryInfo          : InvalidArgument: (:) [Install-Module], ParameterBindingException
    + FullyQualifiedErrorId : NamedParameterNotFound,Install-Module
"""

SLOT_EV = """
[[evidence]]
name = "v2_param"
strength = "medium"
message = "Engine.NamedParameterNotFound"
slots = { parameter = "~^(?i:AllowPrerelease)$" }
[match]
requires_any = ["v2_param"]
"""


def _said_hits(text: str, said: tuple[Said, ...]):  # type: ignore[no-untyped-def]
    doc = normalize(RawText(text, "utf-8", "t"))
    m = Matcher(TextIndex.build(doc), extract_facts(doc), said=said)
    return {h.evidence: h for h in m.signature(make("x-sig", SLOT_EV))}


def test_fqid_copy_does_not_vouch_for_a_slot_its_record_text_contradicts() -> None:
    msg = "Engine.NamedParameterNotFound"
    other = (Said(msg, 1, 1, "template", "en", (("parameter", "RequiredVersoin"),)),)
    fqid = (Said(msg, 6, 6, "fqid"),)
    assert _said_hits(BINDING.format(param="RequiredVersoin"), other + fqid) == {}
    good = (Said(msg, 1, 1, "template", "en", (("parameter", "AllowPrerelease"),)),)
    assert (
        _said_hits(BINDING.format(param="AllowPrerelease"), good + fqid)["v2_param"].line_start == 1
    )
    # the FQID alone (a text in an uncatalogued language) cannot be checked: it still counts
    assert "v2_param" in _said_hits(BINDING.format(param="AllowPrerelease"), fqid)


def test_an_exception_type_is_read_from_categoryinfo_in_any_language() -> None:
    from psgdiag import api
    from psgdiag.model import KnowledgeBase
    from tests.sigfactory import make

    sig = make(
        "denied",
        """
[[evidence]]
name = "uae"
strength = "strong"
exception = "UnauthorizedAccessException"

[match]
requires_any = ["uae"]
""",
    )
    log = (
        "Save-Module : ฦธ 'C:\\Tools\\Modules\\PSWindowsUpdate' คฏทภพถกพฝรฒปตต。\n"
        "    + CategoryInfo          : NotSpecified: (:) [Save-Module], UnauthorizedAccessException\n"
        "    + FullyQualifiedErrorId : Depomepypokegip,Hote-Dyciha\n"
    )
    report = api.diagnose_text(log, kb=KnowledgeBase((sig,), "test"), incidents=())
    assert [d.signature.id for d in report.diagnoses] == ["denied"]
